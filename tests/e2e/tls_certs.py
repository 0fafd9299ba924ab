"""Test certificates made at test time with the openssl CLI: a CA and server certificates for
127.0.0.1 and localhost signed by it (valid or expired)."""
import hashlib
import os
import socket
import ssl
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(directory, name="ca"):
    """Writes NAME.pem and NAME.key; returns the certificate's path."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN=channelstream test {name}",
             cwd=directory)
    return os.path.join(directory, f"{name}.pem")


def make_server_cert(directory, name, ca="ca", days=2):
    """Writes NAME.pem and NAME.key signed by `ca`, SAN IP:127.0.0.1 and DNS:localhost.
    days=-1 makes one that has already expired. Returns (cert path, key path)."""
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN=localhost {name}", cwd=directory)
    with open(os.path.join(directory, f"{name}.ext"), "w") as ext:
        ext.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-days", str(days), "-extfile", f"{name}.ext", "-out", f"{name}.pem",
             cwd=directory)
    return os.path.join(directory, f"{name}.pem"), os.path.join(directory, f"{name}.key")


def file_fingerprint(cert_path):
    """SHA-256 of the certificate's DER form."""
    with open(cert_path) as pem:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.read())).hexdigest()


def served_fingerprint(port, ca_path):
    """SHA-256 of the certificate a new TLS connection to 127.0.0.1:port is served (verified)."""
    context = ssl.create_default_context(cafile=ca_path)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()
