"""Runs Debian's nginx, as the test's user, with deploy/nginx/channelstream.conf: that very file,
its addresses replaced, included in a minimal main configuration that keeps every path under a
temporary directory."""
import grp
import os
import pwd
import signal
import subprocess

from runfiles import source_file
from server_fixture import free_port, wait_for_port

NGINX = "/usr/sbin/nginx"
CONF_PATH = "deploy/nginx/channelstream.conf"

# What the deploy file says -> what the test makes of it. Each must occur exactly once, so a
# change to the deploy file that the test would silently miss fails here instead.
GATEWAY_DEFAULTS = ("server 127.0.0.1:8100 ", "server 127.0.0.1:8101 ")
REST_DEFAULT = "server 127.0.0.1:8000;"
LISTEN_DEFAULT = "listen 80;"
ACCESS_LOG_DEFAULT = "access_log /var/log/nginx/channelstream.access.log "


def render(text, gateway_ports, rest_port, listen_port, access_log):
    """The deploy config with the test's addresses; raises if the file no longer has the
    expected placeholders (defaults)."""
    replacements = [(old, f"server 127.0.0.1:{port} ") for old, port in zip(GATEWAY_DEFAULTS, gateway_ports)]
    replacements += [(REST_DEFAULT, f"server 127.0.0.1:{rest_port};"),
                     (LISTEN_DEFAULT, f"listen 127.0.0.1:{listen_port};"),
                     (ACCESS_LOG_DEFAULT, f"access_log {access_log} ")]
    for old, new in replacements:
        count = text.count(old)
        if count != 1:
            raise ValueError(f"{CONF_PATH}: expected '{old}' exactly once, found it {count} times")
        text = text.replace(old, new)
    return text


def main_config(workdir, site_conf):
    """nginx.conf around the site file: temp paths in `workdir`, and when running as root the
    workers keep root's identity (Debian's default user could not enter the private workdir)."""
    lines = []
    if os.geteuid() == 0:
        lines.append(f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};")
    lines += ["worker_processes 1;", "worker_shutdown_timeout 2s;", "events { worker_connections 512; }", "http {"]
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        lines.append(f"    {kind}_temp_path {workdir}/{kind}_temp;")
    lines += [f"    access_log {workdir}/default-access.log;", f"    include {site_conf};", "}"]
    return "\n".join(lines) + "\n"


class Nginx:
    """nginx in the foreground on a free loopback port; close() stops it (SIGTERM, then SIGKILL to
    its process group)."""

    def __init__(self, workdir, gateway_ports, rest_port):
        if not os.access(NGINX, os.X_OK):
            raise FileNotFoundError(f"{NGINX} is missing: install Debian's nginx (tools/install.sh lists it)")
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.access_log = os.path.join(workdir, "channelstream.access.log")
        self.error_log = os.path.join(workdir, "error.log")
        with open(source_file(CONF_PATH)) as source:
            site = render(source.read(), gateway_ports, rest_port, self.port, self.access_log)
        site_conf = os.path.join(workdir, "channelstream.conf")
        with open(site_conf, "w") as out:
            out.write(site)
        self.conf = os.path.join(workdir, "nginx.conf")
        with open(self.conf, "w") as out:
            out.write(main_config(workdir, site_conf))
        globals_ = f"daemon off; pid {workdir}/nginx.pid; error_log {self.error_log} info;"
        self.command = [NGINX, "-p", workdir, "-e", self.error_log, "-c", self.conf, "-g", globals_]
        check = subprocess.run(self.command + ["-t"], capture_output=True, text=True, timeout=20)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the config:\n{check.stderr}\n--- {self.conf}\n"
                               f"{open(self.conf).read()}--- {site_conf}\n{site}")
        # Its own process group: the workers can be stopped with the master whatever happens.
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        try:
            wait_for_port(self.port, self.process)
        except Exception:
            self.close()
            raise

    def log_tail(self, path=None, chars=3000):
        try:
            with open(path or self.error_log) as log:
                return log.read()[-chars:]
        except OSError as error:
            return str(error)

    def close(self, timeout=10):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # fast shutdown: master and workers exit
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.returncode
