#!/usr/bin/env python3
"""Writes a commented [channelstream] ini with every key, from an installed binary's `--help`:
no Bazel, no build tree, just the binary you deploy (any of channelstream, the broker, the
gateway or the REST adapter: they all take every key). The same file as
`channelstream_utils make_config`: each key with its help line, default and the binaries that read
it; CHANNELSTREAM_<KEY> environment variables set give the value instead of the default.

    tools/make_config.py [--binary PATH] [-o FILE]

--binary defaults to `channelstream` on PATH; without -o the ini goes to stdout.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

# One key per line of `--help`, as common/config.cc's CommandLineHelp writes it:
#   --KEY (default 'VALUE', USED_BY): HELP
KEY_LINE = re.compile(r"^  --([a-z0-9_]+) \(default '(.*?)', ([a-z_,]+)\): (.*)$")

HEADER = (
    "# Channelstream configuration, written by `tools/make_config.py` from `{binary} --help`.\n"
    "# Load it with `-i FILE`. Every key can also be set by the environment variable\n"
    "# CHANNELSTREAM_<KEY> (over this file) or by `--KEY VALUE` (over both).\n"
    "# Lists are comma-separated.\n\n"
    "[channelstream]\n")


class MakeConfigError(Exception):
    pass


def read_keys(binary):
    """[(name, default, used_by, help)] from `binary --help`."""
    path = binary if os.sep in binary else shutil.which(binary)
    if path is None or not os.access(path, os.X_OK):
        raise MakeConfigError(f"cannot run '{binary}': give the path of a Channelstream binary with --binary")
    # The binary's own environment variables must not make --help fail.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANNELSTREAM_")}
    try:
        result = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=30, env=env)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise MakeConfigError(f"'{path} --help' failed: {error}") from error
    if result.returncode != 0:
        raise MakeConfigError(f"'{path} --help' exited with {result.returncode}: {result.stderr.strip()}")
    keys = [match.groups() for match in map(KEY_LINE.match, result.stdout.splitlines()) if match]
    if not keys:
        raise MakeConfigError(f"no keys in the output of '{path} --help': is it a Channelstream binary?")
    return keys


def render(binary, keys, environ):
    text = HEADER.format(binary=os.path.basename(binary))
    for name, default, used_by, help_text in keys:
        value = environ.get(f"CHANNELSTREAM_{name.upper()}", default)
        if "\n" in value or "\r" in value:
            raise MakeConfigError(f"{name}: a value with a line break cannot go in an ini file")
        text += (f"\n# {help_text}\n# default: {default if default else '(empty)'}; read by: {used_by}\n"
                 f"{name} = {value}\n")
    return text


def main(argv):
    parser = argparse.ArgumentParser(description="Write a commented Channelstream ini from a binary's --help.")
    parser.add_argument("--binary", default="channelstream", help="a Channelstream binary (default: channelstream on PATH)")
    parser.add_argument("-o", "--output", help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    try:
        text = render(args.binary, read_keys(args.binary), os.environ)
    except MakeConfigError as error:
        print(f"make_config.py: {error}", file=sys.stderr)
        return 2
    if not args.output or args.output == "-":
        sys.stdout.write(text)
        return 0
    try:
        with open(args.output, "w") as out:
            out.write(text)
    except OSError as error:
        print(f"make_config.py: cannot write '{args.output}': {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
