"""Start, check, stop: sealpostd -n on good and bad files, listeners.json,
SIGTERM to contrib/dev stops everything it started, two masters cannot
share a run-dir."""

import json
import os
import signal
import subprocess
import time
import unittest

from sealpost_test import BASE_PORTS, BUILD, Instance, connect, port_free, read_line, wait_for

SEALPOSTD = os.path.join(BUILD, "sealpostd")


class ConfigCheck(unittest.TestCase):
    def test_instance_config_passes_check(self):
        inst = Instance("check").start()
        try:
            r = subprocess.run([SEALPOSTD, "-n", "-c", inst.conf],
                               capture_output=True, timeout=20)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"configuration " + inst.conf.encode() + b" OK", r.stderr)
        finally:
            inst.stop()
            inst.cleanup()

    def test_unknown_key_names_file_and_line(self):
        inst = Instance("badkey")
        try:
            inst.start()
            inst.stop()
            with open(inst.conf) as f:
                lines = f.read().splitlines()
            lines.insert(3, "max-sesions 10")
            with open(inst.conf, "w") as f:
                f.write("\n".join(lines) + "\n")
            r = subprocess.run([SEALPOSTD, "-n", "-c", inst.conf],
                               capture_output=True, timeout=20)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stderr.decode(),
                             'sealpostd: %s:4: unknown key "max-sesions"\n' % inst.conf)
            # and the daemon itself refuses to start on it
            r = subprocess.run([SEALPOSTD, "-f", "-c", inst.conf],
                               capture_output=True, timeout=20)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b":4: unknown key", r.stderr)
        finally:
            inst.cleanup()


class Lifecycle(unittest.TestCase):
    def test_listeners_file_and_ports(self):
        inst = Instance("ports").start()
        try:
            with open(os.path.join(inst.dir, "run", "listeners.json")) as f:
                data = json.load(f)
            kinds = {l["kind"]: l for l in data["listeners"]}
            self.assertEqual(set(kinds), set(BASE_PORTS))
            for k, base in BASE_PORTS.items():
                self.assertEqual(kinds[k]["port"], base + inst.offset)
                self.assertEqual(kinds[k]["address"], "127.0.0.1")
                self.assertEqual(kinds[k]["tls"], k in ("submissions", "imaps", "pop3s"))
            pw = os.path.join(inst.dir, "demo-password")
            self.assertEqual(os.stat(pw).st_mode & 0o777, 0o600)
            self.assertGreaterEqual(len(open(pw).read().strip()), 20)
            self.assertEqual(os.stat(os.path.join(inst.dir, "tls", "key.pem")).st_mode & 0o777, 0o600)
        finally:
            inst.stop()
            inst.cleanup()

    def test_sigterm_stops_everything(self):
        inst = Instance("stop").start()
        try:
            master = inst.master_pid
            # an open session, to see that it is stopped too
            c = connect(inst.port("imap"))
            read_line(c)
            m = inst.wait_log(r"proc=imap-login pid=(\d+)")
            session = int(m.group(1))
            services = [s["pid"] for s in inst.status()["services"]]
            rc = inst.stop()
            self.assertEqual(rc, 0, inst.log())
            for pid in [master, session] + services:
                self.assertFalse(os.path.exists("/proc/%d" % pid) and
                                 "zombie" not in open("/proc/%d/status" % pid).read(),
                                 "pid %d still running" % pid)
            # the session said goodbye in its protocol, then closed
            self.assertEqual(read_line(c), b"* BYE Server shutting down")
            self.assertEqual(c.recv(10), b"")
            c.close()
            self.assertFalse(os.path.exists(os.path.join(inst.dir, "run", "listeners.json")))
            self.assertFalse(os.path.exists(os.path.join(inst.dir, "run", "control.sock")))
            for base in BASE_PORTS.values():
                self.assertTrue(port_free(base + inst.offset))
            self.assertEqual(inst.bad_log_lines(), [])
        finally:
            inst.stop()
            inst.cleanup()

    def test_second_master_same_run_dir_refused(self):
        inst = Instance("twice").start()
        try:
            r = subprocess.run([SEALPOSTD, "-f", "-c", inst.conf],
                               capture_output=True, timeout=20)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"another sealpostd is running", r.stderr)
            # the first still serves
            with connect(inst.port("pop3")) as c:
                self.assertTrue(read_line(c).startswith(b"+OK"))
        finally:
            inst.stop()
            inst.cleanup()

    def test_restart_keeps_instance(self):
        """A second contrib/dev run on the same folder reuses it."""
        inst = Instance("again").start()
        try:
            pw = open(os.path.join(inst.dir, "demo-password")).read()
            inst.stop()
            inst.start()
            self.assertEqual(open(os.path.join(inst.dir, "demo-password")).read(), pw)
            with connect(inst.port("smtp")) as c:
                self.assertTrue(read_line(c).startswith(b"220 "))
        finally:
            inst.stop()
            inst.cleanup()
