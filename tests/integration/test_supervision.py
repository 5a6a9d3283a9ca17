"""Supervision: kill -9 each service in turn and it comes back (new pid,
restart counted, logged) while the server keeps serving; sessions whose
channel to it broke answer with a temporary error; kill -9 of a session
touches nothing else; a session sending malformed frames to a service is
dropped and the service keeps serving others; SIGHUP and sealpostctl
reload take a good configuration and refuse a bad one; SIGTERM drains."""

import os
import re
import signal
import time
import unittest

from sealpost_test import BUILD, HOSTNAME, Instance, connect, read_line, wait_for

HOOKS = "#define SP_TEST_HOOKS 1" in open(os.path.join(BUILD, "config.h")).read()
SERVICES = ("auth", "filter", "deliver", "queue", "control")


class Supervision(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("super").start()
        cls.inst.wait_services_ready()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        # kill -9 leaves "signal=9" lines on purpose; anything else is bad
        bad = [l for l in cls.inst.bad_log_lines() if "signal=9" not in l]
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    def greet_all(self):
        for kind in ("smtp", "imap", "pop3"):
            with connect(self.inst.port(kind)) as c:
                self.assertTrue(read_line(c), kind)

    def test_kill_each_service(self):
        for name in SERVICES:
            before = self.inst.service(name)
            # an IMAP session holds a channel to auth
            watcher = connect(self.inst.port("imap")) if name == "auth" else None
            if watcher:
                read_line(watcher)
            os.kill(before["pid"], signal.SIGKILL)
            if watcher:
                self.assertEqual(read_line(watcher),
                                 b"* BYE [UNAVAILABLE] Internal service restarting, try again")
                watcher.close()
            after = wait_for(lambda: (lambda s: s if s["ready"] and s["pid"] != before["pid"]
                                      else None)(self.inst.service(name)),
                             15, name + " to come back", interval=0.1)
            self.assertEqual(after["restarts"], before["restarts"] + 1)
            self.assertIn("seccomp=on", after["sandbox"])
            self.inst.wait_log(r"service %s died pid=%d signal=9" % (name, before["pid"]))
            self.greet_all()
            if HOOKS and name != "control":
                with connect(self.inst.port("smtp")) as c:
                    read_line(c)
                    c.sendall(b"XSPTEST HEALTH " + name.encode() + b"\r\n")
                    self.assertRegex(read_line(c), rb"^250 2\.0\.0 health role=%s pid=%d "
                                     % (name.encode(), after["pid"]))

    def test_kill_session_leaves_others(self):
        a = connect(self.inst.port("smtp"))
        b = connect(self.inst.port("smtp"))
        read_line(a)
        read_line(b)
        os.kill(self.inst.session_pid(a, "smtp"), signal.SIGKILL)
        self.assertEqual(a.recv(10), b"")
        b.sendall(b"NOOP\r\n")
        self.assertEqual(read_line(b), b"250 2.0.0 Ok")
        b.sendall(b"QUIT\r\n")
        read_line(b)
        a.close()
        b.close()

    @unittest.skipUnless(HOOKS, "needs --enable-test-hooks")
    def test_malformed_frame_drops_only_that_session(self):
        for name in ("auth", "filter", "deliver", "queue"):
            pid = self.inst.service(name)["pid"]
            other = connect(self.inst.port("smtp"))
            read_line(other)
            with connect(self.inst.port("smtp")) as c:
                read_line(c)
                c.sendall(b"XSPTEST GARBAGE " + name.encode() + b"\r\n")
                self.assertEqual(read_line(c), b"250 2.0.0 garbage %s result=sent"
                                 % name.encode())
                self.assertEqual(read_line(c), b"421 4.3.0 " + HOSTNAME.encode() +
                                 b" Service temporarily unavailable, try again later")
            self.inst.wait_log(r"%s\[%d\]: [0-9a-f]{16} %s event=malformed "
                               r"action=drop-session" % (name, pid, name))
            # the service did not restart and still serves the other session
            self.assertEqual(self.inst.service(name)["pid"], pid)
            other.sendall(b"XSPTEST HEALTH " + name.encode() + b"\r\n")
            self.assertRegex(read_line(other), rb"health role=%s pid=%d "
                             % (name.encode(), pid))
            other.close()


class Reload(unittest.TestCase):
    def test_sighup_and_sealpostctl_reload(self):
        with Instance("reload") as inst:
            inst.wait_services_ready()
            conf = open(inst.conf).read()
            # a good change: new host name for new sessions
            with open(inst.conf, "w") as f:
                f.write(conf.replace("hostname mail.example.test",
                                     "hostname mx2.example.test"))
            os.kill(inst.master_pid, signal.SIGHUP)
            inst.wait_log(r"configuration reloaded")
            with connect(inst.port("smtp")) as c:
                self.assertEqual(read_line(c), b"220 mx2.example.test ESMTP sealpost")
            # a bad one: refused, the old keeps running
            with open(inst.conf, "w") as f:
                f.write(conf + "no-such-key 1\n")
            os.kill(inst.master_pid, signal.SIGHUP)
            inst.wait_log(r"reload refused, the running configuration stays: "
                          r".*unknown key")
            r = inst.ctl("reload", check=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b'unknown key "no-such-key"', r.stderr)
            with connect(inst.port("smtp")) as c:
                self.assertEqual(read_line(c), b"220 mx2.example.test ESMTP sealpost")
            # fixed again, through sealpostctl
            with open(inst.conf, "w") as f:
                f.write(conf)
            r = inst.ctl("reload")
            self.assertEqual(r.stdout, b"configuration reloaded\n")
            with connect(inst.port("smtp")) as c:
                self.assertEqual(read_line(c), b"220 mail.example.test ESMTP sealpost")


class Drain(unittest.TestCase):
    def test_sigterm_says_goodbye_in_each_protocol(self):
        inst = Instance("drain").start()
        try:
            inst.wait_services_ready()
            s = connect(inst.port("smtp"))
            i = connect(inst.port("imap"))
            p = connect(inst.port("pop3"))
            for c in (s, i, p):
                read_line(c)
            rc = inst.stop()
            self.assertEqual(rc, 0)
            self.assertEqual(read_line(s), b"421 4.3.2 " + HOSTNAME.encode() +
                             b" Service shutting down")
            self.assertEqual(read_line(i), b"* BYE Server shutting down")
            self.assertEqual(read_line(p), b"-ERR [SYS/TEMP] Server shutting down")
            for c in (s, i, p):
                c.close()
            self.assertRegex(inst.log(), r"service auth stopped")
        finally:
            inst.stop()
            inst.cleanup()
