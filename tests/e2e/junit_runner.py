"""Runs a unittest module and writes a JUnit XML report where Bazel asks for one
($XML_OUTPUT_FILE), so tools/summarize_tests.py counts each Python test case like a GoogleTest one."""
import os
import sys
import time
import unittest
import xml.etree.ElementTree as ET


class _RecordingResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = []  # (test, outcome, detail, seconds)
        self._started = 0.0

    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def _record(self, test, outcome, detail=""):
        self.records.append((test, outcome, detail, time.monotonic() - self._started))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)


def _write_xml(path, result):
    suite = ET.Element("testsuite", name="python", tests=str(len(result.records)))
    for test, outcome, detail, seconds in result.records:
        test_id = test.id().split(".")
        case = ET.SubElement(suite, "testcase", classname=".".join(test_id[:-1]), name=test_id[-1],
                             time=f"{seconds:.3f}")
        if outcome in ("failure", "error"):
            ET.SubElement(case, outcome, message=outcome).text = detail
        elif outcome == "skipped":
            ET.SubElement(case, "skipped", message=detail)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def main(module_names):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for name in module_names:
        suite.addTests(loader.loadTestsFromName(name))
    runner = unittest.TextTestRunner(verbosity=2, resultclass=_RecordingResult)
    result = runner.run(suite)
    if os.environ.get("XML_OUTPUT_FILE"):
        _write_xml(os.environ["XML_OUTPUT_FILE"], result)
    if result.testsRun == 0:
        print("no test ran")
        return 1
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main([os.path.splitext(os.path.basename(m))[0] for m in sys.argv[1:]]))
