"""The control socket and sealpostctl: status shows what runs, the
socket is root's only, the control service survives bad requests."""

import json
import os
import socket
import stat
import subprocess
import unittest

from sealpost_test import BASE_PORTS, BUILD, Instance, connect, read_line, wait_for


class Control(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("ctl").start()
        cls.inst.wait_services_ready()
        cls.sock = os.path.join(cls.inst.dir, "run", "control.sock")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        cls.inst.cleanup()

    def ask(self, data):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(15)
        s.connect(self.sock)
        s.sendall(data)
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
        s.close()
        return out

    def test_status_human_and_json(self):
        with connect(self.inst.port("imap")) as c:
            read_line(c)
            st = self.inst.status()
            self.assertEqual(st["pid"], self.inst.master_pid)
            self.assertEqual({s["name"] for s in st["services"]},
                             {"auth", "filter", "deliver", "queue", "mta", "signer",
                              "control", "pgp"})
            for s in st["services"]:
                self.assertGreater(s["pid"], 0)
                self.assertEqual(s["restarts"], 0)
            imap = [l for l in st["listeners"] if l["kind"] == "imap"][0]
            self.assertEqual(imap["connections"], 1)
            self.assertEqual(len(st["listeners"]), len(BASE_PORTS))
            self.assertEqual(st["sessions"]["running"], 1)
            text = self.inst.ctl("status").stdout.decode()
            self.assertRegex(text, r"sealpostd \S+ pid %d, up " % self.inst.master_pid)
            self.assertRegex(text, r"\n  auth +pid \d+ +ready +restarts 0 ")
            self.assertRegex(text, r"\n  imap +127\.0\.0\.1:%d +connections 1 "
                             % self.inst.port("imap"))
            self.assertRegex(text, r"imap-login +landlock=")

    def test_socket_is_root_only(self):
        st = os.stat(self.sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_uid, 0)
        r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                            "--clear-groups", os.path.join(BUILD, "sealpostctl"),
                            "-s", self.sock, "status"], capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"Permission denied", r.stderr)

    def test_bad_requests(self):
        pid = self.inst.service("control")["pid"]
        self.assertEqual(json.loads(self.ask(b"bogus\n")),
                         {"ok": False, "message": "unknown request (status, reload, deliver, queue, key)"})
        self.assertEqual(json.loads(self.ask(b"x" * 1000)),
                         {"ok": False, "message": "request too long"})
        self.assertEqual(json.loads(self.ask(b"sta\x00tus\n")),
                         {"ok": False, "message": "NUL byte in request"})
        # deliver without its memfd, or with a plain pipe instead
        self.assertEqual(json.loads(self.ask(b"deliver demo@example.test\n")),
                         {"ok": False, "message": "deliver needs the message as a "
                          "sealed memfd"})
        # many at once, some hanging up early
        socks = []
        for i in range(20):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sock)
            socks.append(s)
        for s in socks:
            s.close()
        self.assertEqual(self.inst.service("control")["pid"], pid)

    def test_sealpostctl_without_server(self):
        r = subprocess.run([os.path.join(BUILD, "sealpostctl"), "-s",
                            "/nonexistent/control.sock", "status"],
                           capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot connect to /nonexistent/control.sock", r.stderr)
        r = subprocess.run([os.path.join(BUILD, "sealpostctl"), "frobnicate"],
                           capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 2)
