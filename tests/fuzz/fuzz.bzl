"""cc_fuzz_test: a libFuzzer target written once, a replay test everywhere else.

One source file defines `extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t)`.
- In the default, asan and tsan configurations it is a cc_test linked with //tests/fuzz:replay_main,
  which runs every file of corpus/<name>/ and regressions/<name>/ (next to the BUILD file) once:
  `bazel test //...` checks each seed and each past finding, in a second or so.
- Under --config=fuzz (which defines fuzzing=1 and compiles with clang and
  -fsanitize=fuzzer-no-link,address,undefined) it links libFuzzer's own main instead; tools/fuzz.sh
  runs it for a bounded time. `bazel test --config=fuzz` still only replays the same files, since
  libFuzzer given files (not directories) runs each once and exits.

The -fsanitize=fuzzer link flag is set here, not in .bazelrc: linked into every binary it would
clash with their own main(), so only fuzz targets get libFuzzer; everything else under
--config=fuzz links plain ASan+UBSan.
"""

load("@rules_cc//cc:defs.bzl", "cc_test")

def cc_fuzz_test(name, src, deps = [], **kwargs):
    """One fuzz target. `src` defines LLVMFuzzerTestOneInput; seeds live in corpus/<name>/."""
    inputs = native.glob(["corpus/%s/*" % name, "regressions/%s/*" % name])
    if not inputs:
        fail("cc_fuzz_test %s: no seed inputs in corpus/%s/" % (name, name))
    cc_test(
        name = name,
        srcs = [src],
        deps = deps + ["//tests/fuzz:fuzz_input"] + select({
            "//tests/fuzz:fuzzing": [],
            "//conditions:default": ["//tests/fuzz:replay_main"],
        }),
        linkopts = select({
            "//tests/fuzz:fuzzing": ["-fsanitize=fuzzer,address,undefined"],
            "//conditions:default": [],
        }),
        args = ["$(rootpath %s)" % f for f in inputs],
        data = inputs,
        tags = kwargs.pop("tags", []) + ["fuzz_target"],
        **kwargs
    )
