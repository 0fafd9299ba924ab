#!/usr/bin/env python3
"""Counts test cases from Bazel's test.xml files (GoogleTest writes one per test binary).

A test target that produced no XML of its own (failed to build, crashed before GoogleTest ran,
timed out) counts as one failed case, so a broken target can never vanish from the total.
With --fuzz-results it counts tools/fuzz.sh's results instead: each fuzz target one case.
"""
import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET


def count_xml(path):
    passed = failed = skipped = 0
    names = []
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            names.append(f'{case.get("classname")}.{case.get("name")}')
        elif case.find("skipped") is not None or case.get("status") == "notrun":
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped, names


def summarize(label, testlogs, bazel_log):
    result = {"label": label, "passed": 0, "failed": 0, "skipped": 0, "failures": []}
    statuses = {}
    with open(bazel_log, errors="replace") as log:
        for line in log:
            match = re.match(r"^(//\S+)\s+(?:\(cached\)\s+)?(PASSED|FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD|FLAKY|SKIPPED)\b", line.strip())
            if match:
                statuses[match.group(1)] = match.group(2)
    if not statuses:
        result["failed"] += 1
        result["failures"].append(f"[{label}] no test target ran (see bazel output)")
    for target, status in sorted(statuses.items()):
        package, name = target[2:].split(":")
        xml = os.path.join(testlogs, package, name, "test.xml")
        counted = False
        if status in ("PASSED", "FAILED", "FLAKY") and os.path.exists(xml):
            passed, failed, skipped, names = count_xml(xml)
            if passed + failed + skipped > 0:
                counted = True
                result["passed"] += passed
                result["skipped"] += skipped
                result["failed"] += failed
                result["failures"] += [f"[{label}] {target} {n}" for n in names]
                if status == "FAILED" and failed == 0:
                    # The binary failed outside any test case (sanitizer report at exit, crash).
                    result["failed"] += 1
                    result["failures"].append(f"[{label}] {target} (exited non-zero)")
        if not counted:
            if status == "PASSED":
                result["passed"] += 1
            else:
                result["failed"] += 1
                result["failures"].append(f"[{label}] {target} {status}")
    return result


def summarize_fuzz(label, results_path):
    """tools/fuzz.sh -r: one line per fuzz target, label<TAB>PASSED|FAILED<TAB>detail."""
    result = {"label": label, "passed": 0, "failed": 0, "skipped": 0, "failures": []}
    rows = []
    if os.path.exists(results_path):
        with open(results_path, errors="replace") as results:
            rows = [line.rstrip("\n").split("\t", 2) for line in results if line.strip()]
    if not rows:
        result["failed"] += 1
        result["failures"].append(f"[{label}] no fuzz target ran (see tools/fuzz.sh output)")
    for row in rows:
        target, status, detail = (row + ["", ""])[:3]
        if status == "PASSED":
            result["passed"] += 1
        else:
            result["failed"] += 1
            result["failures"].append(f"[{label}] {target} {detail}")
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label")
    parser.add_argument("--testlogs")
    parser.add_argument("--bazel-log")
    parser.add_argument("--combine", nargs="*")
    parser.add_argument("--fuzz-results")
    args = parser.parse_args()
    if args.fuzz_results is not None:
        json.dump(summarize_fuzz(args.label, args.fuzz_results), sys.stdout)
        return 0
    if args.combine is not None:
        total = {"passed": 0, "failed": 0, "skipped": 0, "failures": []}
        for path in args.combine:
            with open(path) as f:
                part = json.load(f)
            print(f'{part["label"]}: {part["passed"]} passed, {part["failed"]} failed, {part["skipped"]} skipped')
            for key in ("passed", "failed", "skipped"):
                total[key] += part[key]
            total["failures"] += part["failures"]
        for failure in total["failures"]:
            print("FAILED:", failure)
        line = f'{total["passed"]} passed, {total["failed"]} failed'
        if total["skipped"]:
            line += f', {total["skipped"]} skipped'
        print(line)
        return 1 if total["failed"] else 0
    json.dump(summarize(args.label, args.testlogs, args.bazel_log), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
