"""POP3 with real clients from Debian (issue 10): curl fetches every
message of a 500-message maildrop over 995 and each arrives byte for byte;
then fetchmail downloads and deletes all 500 (implicit TLS, certificate
checked), and the maildrop is empty afterwards; fetchmail over STLS on
110 with `keep` leaves the maildrop as it was."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from sealpost_test import HOSTNAME, Instance

N = 500


def message(i):
    return (b"From: a@other.test\r\nTo: fetch@example.test\r\n"
            b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
            b"Message-ID: <%d@clients.test>\r\nSubject: client %d\r\n\r\n" % (i, i)
            + b"body of message %d\r\n.\r\n.a dot line\r\n" % i
            + b"x" * 70 + b"\r\n")


@unittest.skipUnless(shutil.which("fetchmail") and shutil.which("curl"),
                     "fetchmail and curl (contrib/dev installs them)")
class RealPop3Clients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("pop3-clients",
                            extra_conf=["instance-type test", "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.tmp = tempfile.mkdtemp(prefix="sp-pop3c-", dir="/tmp")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        cls.inst.finish()

    def fetchmail(self, addr, kind, keep, out):
        rc = os.path.join(self.tmp, "fetchmailrc-" + kind)
        with open(rc, "w") as f:
            f.write('set no syslog\n'
                    'poll 127.0.0.1 protocol POP3 service %d timeout 60\n'
                    '  user "%s" there with password "%s" is root here\n'
                    '  %s sslcertck sslcertfile "%s" sslcommonname "%s"\n'
                    '  %s limit 0 fetchall bsmtp "%s"\n'
                    % (self.inst.port(kind), addr, self.inst.demo_password,
                       "ssl" if kind == "pop3s" else "sslproto tls1.2+",
                       self.inst.cafile, HOSTNAME, "keep" if keep else "nokeep", out))
        os.chmod(rc, 0o600)
        env = dict(os.environ, HOME=self.tmp)
        return subprocess.run(["fetchmail", "-f", rc, "--nodetach", "-i",
                               os.path.join(self.tmp, "fetchids-" + kind), "-v"],
                              env=env, capture_output=True, timeout=600)

    def test_curl_then_fetchmail(self):
        addr = "fetch@example.test"
        self.inst.add_user(addr)
        self.inst.deliver(addr, [message(i) for i in range(1, N + 1)])

        # curl: every message over one TLS connection (URL globbing)
        out = os.path.join(self.tmp, "curl")
        os.mkdir(out)
        port = self.inst.port("pop3s")
        r = subprocess.run(["curl", "-sS", "--cacert", self.inst.cafile,
                            "--resolve", "%s:%d:127.0.0.1" % (HOSTNAME, port),
                            "-u", "%s:%s" % (addr, self.inst.demo_password),
                            "pop3s://%s:%d/[1-%d]" % (HOSTNAME, port, N),
                            "-o", os.path.join(out, "#1.eml")],
                           capture_output=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        for i in range(1, N + 1):
            with open(os.path.join(out, "%d.eml" % i), "rb") as f:
                got = f.read()
            # as sent, after our Received: line
            self.assertTrue(got.startswith(b"Received: from client.test "), i)
            self.assertTrue(got.endswith(b"\r\n" + message(i)), i)

        # fetchmail over STLS on 110, keeping the mail: 500 fetched, none gone
        bs = os.path.join(self.tmp, "stls.bsmtp")
        r = self.fetchmail(addr, "pop3", True, bs)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(b"STLS", r.stdout + r.stderr)
        with open(bs, "rb") as f:
            self.assertEqual(len(re.findall(rb"^MAIL FROM:", f.read(), re.M)), N)
        p = self.inst.pop3s(addr)
        self.assertEqual(p.stat()[0], N)
        p.quit()

        # fetchmail over 995, deleting: all 500, then an empty maildrop
        bs = os.path.join(self.tmp, "tls.bsmtp")
        r = self.fetchmail(addr, "pop3s", False, bs)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(bs, "rb") as f:
            data = f.read()
        self.assertEqual(len(re.findall(rb"^MAIL FROM:", data, re.M)), N)
        for i in (1, 250, N):
            self.assertIn(b"Subject: client %d\r\n" % i, data)
        p = self.inst.pop3s(addr)
        self.assertEqual(p.stat(), (0, 0))
        p.quit()
        self.assertRegex(self.inst.log(), r"pop3-mail event=quit account=\d+ deleted=%d " % N)


if __name__ == "__main__":
    unittest.main()
