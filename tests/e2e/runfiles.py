"""Finds a source file of the repository (deploy/..., tools/..., proto/...) given to a test as
Bazel data, or in the working tree when a test is run by hand from the repository root."""
import os

from server_fixture import RUNFILES, WORKSPACE


def source_file(relative):
    for candidate in (os.path.join(RUNFILES, WORKSPACE, relative), relative):
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(f"{relative} (not in the test's runfiles: is it in the sh_test's data?)")
