"""The antivirus quarantine (issue 11): under "antivirus quarantine" a
message with a virus for local recipients is accepted (250 2.7.0, said
only once it is durable), sealed to the key of the account
postmaster@DOMAIN leads to, and nobody's mailbox gets it.  sealpostctl
quarantine list shows it without a password; show and release need that
account's password (a wrong one, or another account's, opens nothing);
show escapes what it prints and --raw gives the exact bytes received;
release delivers to every recipient with a header saying it was held,
then removes it; --rcpt releases to one; delete removes by id or by age.
A message with a remote recipient is refused instead (its sender is one of
ours, connected); a quarantine folder deliver cannot write defers with
452 and stores nothing.  Tampered files are
reported, never trusted."""

import os
import re
import smtplib
import stat
import subprocess
import time
import unittest

from sealpost_test import Instance

CONF = ["instance-type test", "kdf-strength test"]
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
POLICY = "rule hold {\n\tlistener smtp\n\tantivirus quarantine\n}\n"
SUBMIT_POLICY = ("rule hold-out {\n\tlistener submission\n\tauthenticated yes\n"
                 "\tantivirus quarantine\n}\n")
_n = [0]


def message(body, subject="held"):
    _n[0] += 1
    return (b"From: a@other.test\r\nTo: q1@example.test\r\n"
            b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
            b"Message-ID: <%d@quarantine.test>\r\nSubject: " % _n[0]
            + subject.encode() + b"\r\n\r\n" + body + b"\r\n")


def mid(msg):
    """The message's Message-ID line: what finds it in a mailbox."""
    return re.search(rb"Message-ID: <[^>]+>", msg).group(0)


class Quarantine(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("quarantine", extra_conf=CONF).start()
        cls.inst.wait_services_ready()
        for u in ("pm@example.test", "q1@example.test", "q2@example.test"):
            cls.inst.add_user(u)
        cls.inst.ctl("alias", "add", "postmaster@example.test", "pm@example.test",
                     "--replace")
        with open(os.path.join(cls.inst.dir, "policy", "hold.policy"), "w") as f:
            f.write(POLICY + SUBMIT_POLICY)
        cls.inst.ctl("reload")
        cls.inst.wait_log(r"service filter renewed", timeout=20)
        cls.qdir = os.path.join(cls.inst.dir, "data", "mail", "quarantine")
        cls.pwfile = os.path.join(cls.inst.dir, "demo-password")

    @classmethod
    def tearDownClass(cls):
        cls.inst.finish()

    def setUp(self):
        for name in os.listdir(self.qdir):
            os.unlink(os.path.join(self.qdir, name))

    def send(self, rcpts, msg, port="smtp", login=None):
        """(code, text) of the reply to DATA."""
        with smtplib.SMTP("127.0.0.1", self.inst.port(port), timeout=60) as s:
            if login:
                s.starttls(context=self.inst.tls_context())
                s.login(login, self.inst.demo_password)
            else:
                s.ehlo("client.test")
            s.mail(login or "a@other.test")
            for r in rcpts:
                self.assertEqual(s.rcpt(r)[0], 250)
            return s.data(msg)

    def ids(self):
        return sorted(n[:-4] for n in os.listdir(self.qdir) if n.endswith(".env"))

    def inbox(self, user, marker):
        """The messages in user's INBOX holding marker (a Message-ID)."""
        m = self.inst.imaps(user)
        typ, exists = m.select("INBOX", readonly=True)
        data = []
        if int(exists[0]) > 0:
            typ, data = m.fetch("1:*", "(BODY.PEEK[])")
        m.logout()
        return [d[1] for d in data if isinstance(d, tuple) and marker in d[1]]

    def ctl_pw(self, *args, pwfile=None, check=True):
        return self.inst.ctl("quarantine", *args, "--password-file",
                             pwfile or self.pwfile, check=check)

    def test_held_listed_shown_released(self):
        msg = message(EICAR)
        code, text = self.send(["q1@example.test", "q2@example.test"], msg)
        self.assertEqual(code, 250)
        self.assertRegex(text, rb"^2\.7\.0 Ok: queued as [0-9a-f]{16}\.\d+, held in "
                               rb"quarantine for review$")
        qid = text.split()[4].rstrip(b",").decode()
        self.inst.wait_log(r"filter event=verdict result=quarantine id=%s .*"
                           r"virus=Sealpost\.Test\.EICAR\.UNOFFICIAL" % qid.replace(".", r"\."))
        self.inst.wait_log(r"deliver event=quarantine id=%s quarantine=[0-9a-f]{32} "
                           r"size=\d+ account=\d+ reason=virus Sealpost\.Test\.EICAR\.UNOFFICIAL "
                           r"result=ok" % qid.replace(".", r"\."))
        self.assertEqual(self.inbox("q1@example.test", mid(msg)), [])
        self.assertEqual(self.inbox("pm@example.test", mid(msg)), [])
        [qdir_id] = self.ids()
        # the folder: root's, the deliver group's, nobody else's
        st = os.stat(self.qdir)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o770))
        for n in os.listdir(self.qdir):
            self.assertEqual(os.stat(os.path.join(self.qdir, n)).st_mode & 0o077
                             if n.endswith(".info") or n.endswith(".env") else 0, 0)
        # sealed: neither the message nor the addresses are readable on disk
        for n in os.listdir(self.qdir):
            with open(os.path.join(self.qdir, n), "rb") as f:
                data = f.read()
            self.assertNotIn(b"EICAR-STANDARD", data)
            self.assertNotIn(b"q1@example.test", data)

        out = self.inst.ctl("quarantine", "list").stdout.decode()
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^ID +QUEUE-ID +RECEIVED +SIZE RCPTS REASON$")
        self.assertRegex(lines[1], r"^%s %s +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +\d+ +2 "
                                   r"virus Sealpost\.Test\.EICAR\.UNOFFICIAL$"
                         % (qdir_id, qid.replace(".", r"\.")))

        # show: by the SMTP queue id too; the envelope and the header
        out = self.ctl_pw("show", qid).stdout.decode()
        self.assertIn("id:        %s\nqueue id:  %s\n" % (qdir_id, qid), out)
        self.assertIn("reason:    virus Sealpost.Test.EICAR.UNOFFICIAL\n", out)
        self.assertIn("from:      <a@other.test>\nto:        <q1@example.test>\n"
                      "to:        <q2@example.test>\n", out)
        self.assertIn("\nReceived: from client.test", out)
        self.assertIn("Subject: held\n", out)
        self.assertNotIn("EICAR-STANDARD", out)      # the body is not printed
        self.assertIn("--raw > FILE writes the whole message", out)
        # --raw: exactly what was received, our Received: on top
        raw = self.ctl_pw("show", qdir_id, "--raw").stdout
        self.assertTrue(raw.startswith(b"Received: from client.test"))
        self.assertTrue(raw.endswith(msg), raw[-200:])

        # release: both recipients get it, marked; it leaves the quarantine
        r = self.ctl_pw("release", qdir_id)
        self.assertEqual(r.stdout.decode(),
                         "delivered to <q1@example.test>\ndelivered to <q2@example.test>\n"
                         "released %s: removed from the quarantine\n" % qdir_id)
        for u in ("q1@example.test", "q2@example.test"):
            [got] = self.inbox(u, mid(msg))
            self.assertRegex(got, rb"^X-Sealpost-Antivirus: released from quarantine by "
                                  rb"the postmaster\r\n\t\(virus Sealpost\.Test\.EICAR\.UNOFFICIAL\); "
                                  rb"\w\w\w, \d\d \w\w\w \d{4} [\d:]{8} \+0000\r\nReceived: ")
            self.assertTrue(got.endswith(msg))
        self.assertEqual(self.ids(), [])
        self.assertEqual(self.inst.ctl("quarantine", "list").stdout,
                         b"the quarantine is empty\n")
        r = self.ctl_pw("show", qdir_id, check=False)
        self.assertEqual((r.returncode, r.stderr.decode()),
                         (1, "sealpostctl: %s: no such message in the quarantine\n"
                          % qdir_id))

    def test_password_guards_show_and_release(self):
        msg = message(EICAR)
        self.assertEqual(self.send(["q1@example.test"], msg)[0], 250)
        [qid] = self.ids()
        wrong = os.path.join(self.inst.dir, "wrong-password")
        with open(wrong, "w") as f:
            f.write("not the password at all\n")
        for verb in ("show", "release"):
            r = self.ctl_pw(verb, qid, pwfile=wrong, check=False)
            self.assertEqual((r.returncode, r.stdout, r.stderr),
                             (1, b"", b"sealpostctl: wrong password for pm@example.test\n"))
        self.assertEqual(self.ids(), [qid])
        self.assertEqual(self.inbox("q1@example.test", mid(msg)), [])
        # the password on standard input (not a terminal) works too
        r = subprocess.run([os.path.join(self.inst.build, "sealpostctl"), "-c",
                            self.inst.conf, "quarantine", "show", qid],
                           input=self.inst.demo_password.encode() + b"\n",
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"reason:    virus Sealpost.Test.EICAR.UNOFFICIAL", r.stdout)
        # --raw never writes a virus to a terminal (no tty here: refused by
        # isatty, so check only the usage errors)
        for args in (["show"], ["show", qid, "--rcpt", "x@example.test"],
                     ["release", qid, "--raw"], ["list", qid],
                     ["delete"], ["delete", qid, "--older-than", "3"],
                     ["delete", "--older-than", "many"], ["frob"]):
            r = self.inst.ctl("quarantine", *args, check=False)
            self.assertEqual(r.returncode, 2, args)
        r = self.inst.ctl("quarantine", "show", "../../etc/passwd", check=False)
        self.assertEqual((r.returncode, r.stderr),
                         (1, b'sealpostctl: "../../etc/passwd" is not a quarantine id '
                             b'(see sealpostctl quarantine list)\n'))

    def test_release_to_one_recipient_then_delete(self):
        msg = message(EICAR)
        self.assertEqual(self.send(["q1@example.test", "q2@example.test"], msg)[0], 250)
        [qid] = self.ids()
        r = self.ctl_pw("release", qid, "--rcpt", "nobody@example.test", check=False)
        self.assertEqual((r.returncode, r.stderr.decode()),
                         (1, "sealpostctl: nobody@example.test is not a recipient of %s\n"
                          % qid))
        r = self.ctl_pw("release", qid, "--rcpt", "Q2@example.test")
        self.assertIn(b"delivered to <q2@example.test>\n", r.stdout)
        self.assertEqual(len(self.inbox("q2@example.test", mid(msg))), 1)
        self.assertEqual(self.inbox("q1@example.test", mid(msg)), [])
        self.assertEqual(self.ids(), [qid])
        r = self.inst.ctl("quarantine", "delete", qid)
        self.assertEqual(r.stdout, b"deleted %s\n" % qid.encode())
        self.assertEqual(os.listdir(self.qdir), [])
        r = self.inst.ctl("quarantine", "delete", qid, check=False)
        self.assertEqual(r.returncode, 1)

    def test_delete_older_than(self):
        for i in range(3):
            self.assertEqual(self.send(["q1@example.test"], message(EICAR))[0], 250)
        ids = self.ids()
        # age one entry: its info says when it was received
        info = os.path.join(self.qdir, ids[0] + ".info")
        with open(info) as f:
            text = f.read()
        old = int(text.split("received ")[1].split("\n")[0])
        with open(info, "w") as f:
            f.write(text.replace("received %d" % old, "received %d" % (old - 8 * 86400)))
        r = self.inst.ctl("quarantine", "delete", "--older-than", "7")
        self.assertEqual(r.stdout, b"deleted 1 message received more than 7 days ago\n")
        self.assertEqual(self.ids(), ids[1:])
        time.sleep(1.1)         # "more than 0 days ago": an earlier second
        r = self.inst.ctl("quarantine", "delete", "--older-than", "0")
        self.assertEqual(self.ids(), [])

    def test_tampered_files(self):
        """Files a compromised deliver could have written: reported, never
        trusted, nothing printed unescaped."""
        self.assertEqual(self.send(["q1@example.test"], message(EICAR))[0], 250)
        self.assertEqual(self.send(["q1@example.test"], message(EICAR))[0], 250)
        a, b = self.ids()
        with open(os.path.join(self.qdir, a + ".info"), "w") as f:
            f.write("sealpost-quarantine 1\nqueue-id \x1b[31mx\nreceived 1\n")
        out = self.inst.ctl("quarantine", "list").stdout.decode()
        self.assertIn("%s (no details: info: malformed line 2)\n" % a, out)
        self.assertNotIn("\x1b", out)
        r = self.ctl_pw("show", a, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"info: malformed line 2", r.stderr)
        # one flipped byte in the body: an integrity error, no plaintext
        path = os.path.join(self.qdir, b)
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) - 20)
            c = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([c[0] ^ 1]))
        r = self.ctl_pw("show", b, "--raw", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, b"")
        self.assertIn(b"the message does not open", r.stderr)
        # another message's body under this id: refused by the blob id check
        os.unlink(path)
        os.link(os.path.join(self.qdir, a), path)
        r = self.ctl_pw("show", b, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"the message: ", r.stderr)

    def test_remote_recipient_refused(self):
        """From a submission, a held message with a remote recipient is
        refused (554, the virus named): the sender is ours and connected."""
        code, text = self.send(["q1@example.test", "far@remote.example"], message(EICAR),
                               port="submission", login="q1@example.test")
        self.assertEqual((code, text), (554, b"5.7.1 Message refused: virus found "
                                             b"(Sealpost.Test.EICAR.UNOFFICIAL)"))
        self.assertEqual(self.ids(), [])
        # local recipients only: held
        code, text = self.send(["q2@example.test"], message(EICAR), port="submission",
                               login="q1@example.test")
        self.assertEqual(code, 250)
        self.assertEqual(len(self.ids()), 1)

    def test_unwritable_folder_defers(self):
        """deliver cannot write the quarantine: 452, nothing kept, nothing
        delivered."""
        msg = message(EICAR)
        os.chmod(self.qdir, 0o750)
        try:
            code, text = self.send(["q1@example.test"], msg)
        finally:
            os.chmod(self.qdir, 0o770)
        self.assertEqual((code, text), (452, b"4.3.1 Insufficient system storage, "
                                             b"try again later"))
        self.inst.wait_log(r"deliver event=quarantine id=\S+ size=\d+ result=fail "
                           r"reason=create:\\x20Permission\\x20denied")
        self.assertEqual(os.listdir(self.qdir), [])
        self.assertEqual(self.inbox("q1@example.test", mid(msg)), [])

    def test_clean_mail_unaffected(self):
        msg = message(b"hello")
        self.assertEqual(self.send(["q1@example.test"], msg)[0], 250)
        self.assertEqual(self.ids(), [])
        self.assertEqual(len(self.inbox("q1@example.test", mid(msg))), 1)


if __name__ == "__main__":
    unittest.main()
