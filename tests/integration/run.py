#!/usr/bin/python3
"""Run every tests/integration/test_*.py (unittest), print each result with
its time, and end with one line "N passed, N failed, N skipped".
Exit status 1 when anything failed.  Usage: run.py [PATTERN...]"""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))


class Result(unittest.TextTestResult):
    def startTest(self, test):
        self._t0 = time.monotonic()
        super().startTest(test)

    def _say(self, word, test):
        self.stream.write("%-5s %-70s %6.2f s\n"
                          % (word, test.id().replace("test_", "", 1),
                             time.monotonic() - getattr(self, "_t0", time.monotonic())))
        self.stream.flush()

    passed = 0

    def addSuccess(self, test):
        unittest.TestResult.addSuccess(self, test)
        self.passed += 1
        self._say("PASS", test)

    def addFailure(self, test, err):
        unittest.TestResult.addFailure(self, test, err)
        self._say("FAIL", test)

    def addError(self, test, err):
        unittest.TestResult.addError(self, test, err)
        self._say("ERROR", test)

    def addSkip(self, test, reason):
        unittest.TestResult.addSkip(self, test, reason)
        self._say("SKIP", test)

    def addExpectedFailure(self, test, err):
        unittest.TestResult.addExpectedFailure(self, test, err)
        self._say("XFAIL", test)

    def addUnexpectedSuccess(self, test):
        unittest.TestResult.addUnexpectedSuccess(self, test)
        self._say("XPASS", test)


def main():
    pats = sys.argv[1:] or ["test_*.py"]
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for pat in pats:
        suite.addTests(loader.discover(HERE, pattern=pat, top_level_dir=HERE))
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=0,
                                     resultclass=Result)
    t0 = time.monotonic()
    res = runner.run(suite)
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    skipped = len(res.skipped)
    # counted, not derived: a failed setUpClass is an error with no test run
    passed = res.passed
    sys.stdout.write("integration time: %.1f s\n" % (time.monotonic() - t0))
    sys.stdout.write("%d passed, %d failed, %d skipped\n" % (passed, failed, skipped))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
