"""The SMTP server against a real instance: smtplib, swaks and openssl
s_client on the MX port (25), submission (587, STARTTLS then AUTH) and
submissions (465, implicit TLS).  Happy paths end in the store (read back
with the account's password through the reading library); every refusal
has its exact reply (SECURITY-TESTS.md section A: T03-T10, T12, and SMTP
smuggling), and nothing refused is stored."""

import base64
import os
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import time
import unittest

from sealpost_test import BUILD, TOP, Instance, connect, wait_for

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
MSG = (b"From: Sender <s@other.test>\r\nTo: demo@example.test\r\n"
       b"Date: Thu, 26 Nov 2026 12:00:00 +0000\r\nSubject: hello\r\n\r\n"
       b"line one\r\n.leading dot\r\n..two dots\r\n")


class Conn:
    """A raw SMTP connection: exact bytes out, exact replies in."""

    def __init__(self, port, tls_ctx=None, greet=True):
        self.sock = connect(port, timeout=20)
        if tls_ctx is not None:
            self.sock = tls_ctx.wrap_socket(self.sock, server_hostname="mail.example.test")
        self.buf = b""
        if greet:
            self.greeting = self.reply()

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError(self.buf)
            self.buf += d
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """A whole (multi-line) reply, its lines joined by newlines."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return "\n".join(lines)

    def cmd(self, text):
        self.send(text.encode() + b"\r\n")
        return self.reply()

    def closed(self):
        try:
            self.sock.settimeout(10)
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, ssl.SSLError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


class SmtpBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("smtp", build=cls.build,
                            extra_conf=["instance-type test", "kdf-strength test",
                                        "max-message-size 30M",
                                        "smtp-max-recipients 20",
                                        "local-sender root other@example.test"]).start()
        cls.inst.wait_services_ready()
        cls.pw = open(os.path.join(cls.inst.dir, "demo-password")).read().strip()
        cls.ctl("alias", "add", "alias@example.test", "demo@example.test")
        cls.ctl("user", "add", "other@example.test", "--password-file",
                os.path.join(cls.inst.dir, "demo-password"))

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        # the kill -9 test's own kills are not findings
        bad = [l for l in cls.inst.bad_log_lines() if "signal=9" not in l]
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    @classmethod
    def ctl(cls, *args):
        r = subprocess.run([os.path.join(cls.build, "sealpostctl"), "-c", cls.inst.conf]
                           + list(args), capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return r

    def port(self, kind):
        return self.inst.port(kind)

    def tls(self):
        return self.inst.tls_context()

    def new_files(self, account=1):
        """How many sealed messages wait in the account's new/ (not yet
        imported by a login)."""
        d = os.path.join(self.inst.dir, "data", "mail", str(account), "new")
        return len([n for n in os.listdir(d) if not n.startswith(".")]) \
            if os.path.isdir(d) else 0

    def wait_new(self, before, account=1, n=1):
        deadline = time.time() + 10
        while time.time() < deadline and self.new_files(account) < before + n:
            time.sleep(0.05)
        return self.new_files(account) - before

    def mx(self):
        c = Conn(self.port("smtp"))
        self.assertRegex(c.greeting, r"^220 mail\.example\.test ESMTP")
        return c

    # -- happy paths ----------------------------------------------------
    def test_ehlo_extensions(self):
        c = self.mx()
        r = c.cmd("EHLO client.test")
        for ext in ("PIPELINING", "SIZE 31457280", "8BITMIME", "SMTPUTF8",
                    "ENHANCEDSTATUSCODES", "CHUNKING", "DSN", "STARTTLS"):
            self.assertIn("250-" + ext + "\n" if ext != "DSN" else "DSN", r + "\n")
        self.assertNotIn("AUTH", r)             # never on the MX port
        self.assertEqual(c.cmd("AUTH PLAIN AGRlbW8AeA=="),
                         "503 5.5.1 AUTH not available on this port")
        self.assertEqual(c.cmd("HELO client.test"), "250 mail.example.test")
        self.assertEqual(c.cmd("VRFY demo"), "252 2.5.0 Cannot VRFY user, but will "
                         "accept message and attempt delivery")
        self.assertEqual(c.cmd("EXPN staff"), "502 5.5.1 EXPN not available")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 mail.example.test Bye")
        self.assertTrue(c.closed())

    def test_mx_delivery_smtplib(self):
        before = self.new_files()
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            r = s.sendmail("s@other.test", ["demo@example.test", "alias@example.test"], MSG)
            self.assertEqual(r, {})
        # two recipients, one account: one copy
        self.assertEqual(self.wait_new(before), 1)
        self.inst.wait_log(r"smtp event=message id=\S+ size=\d+ rcpts=2 copies=1 encrypted=0 "
                           r"queued=- result=accepted")

    def test_pipelining_and_starttls(self):
        c = self.mx()
        self.assertIn("STARTTLS", c.cmd("EHLO client.test"))
        self.assertEqual(c.cmd("STARTTLS"), "220 2.0.0 Ready to start TLS")
        c.sock = self.tls().wrap_socket(c.sock, server_hostname="mail.example.test")
        # RFC 3207: the state is reset; EHLO again, no STARTTLS any more
        self.assertEqual(c.cmd("MAIL FROM:<s@other.test>"),
                         "503 5.5.1 Send EHLO or HELO first")
        r = c.cmd("EHLO client.test")
        self.assertNotIn("STARTTLS", r)
        before = self.new_files()
        c.send(b"MAIL FROM:<s@other.test> BODY=8BITMIME\r\nRCPT TO:<demo@example.test>\r\n"
               b"RCPT TO:<nobody@example.test>\r\nDATA\r\n")
        self.assertEqual(c.reply(), "250 2.1.0 Ok")
        self.assertEqual(c.reply(), "250 2.1.5 Ok")
        self.assertEqual(c.reply(), "550 5.1.1 No such user here")
        self.assertEqual(c.reply(), "354 End data with <CR><LF>.<CR><LF>")
        c.send(MSG.replace(b"hello", b"caf\xc3\xa9 8-bit") + b".\r\nQUIT\r\n")
        self.assertRegex(c.reply(), r"^250 2\.0\.0 Ok: queued as [0-9a-f]{16}\.\d+$")
        self.assertEqual(c.reply(), "221 2.0.0 mail.example.test Bye")
        self.assertEqual(self.wait_new(before), 1)
        self.inst.wait_log(r"smtp event=tls version=TLSv1\.[23]")

    def test_bdat(self):
        c = self.mx()
        c.cmd("EHLO client.test")
        before = self.new_files()
        self.assertEqual(c.cmd("MAIL FROM:<s@other.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<demo@example.test>"), "250 2.1.5 Ok")
        body = MSG + b"\r\n.\r\nnot the end\r\n"
        c.send(b"BDAT 20\r\n" + body[:20])
        self.assertEqual(c.reply(), "250 2.0.0 20 octets received")
        self.assertEqual(c.cmd("DATA"), "503 5.5.1 DATA not allowed after BDAT")
        rest = body[20:]
        c.send(b"BDAT %d LAST\r\n" % len(rest) + rest)
        self.assertRegex(c.reply(), r"^250 2\.0\.0 Ok: queued as ")
        self.assertEqual(self.wait_new(before), 1)
        # a BDAT without a transaction: the chunk is read and dropped
        c.send(b"BDAT 5 LAST\r\nxxxxx")
        self.assertEqual(c.reply(), "503 5.5.1 Need MAIL and RCPT before BDAT")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        c.close()

    def test_bdat_abuse(self):
        """SECURITY-TESTS T09: sizes that overflow or are negative, a chunk
        larger than any message, a chunk cut short: each refused or
        dropped, nothing stored, the session never out of step."""
        before = self.new_files()
        for cmd, want in ((b"BDAT 18446744073709551616 LAST",
                           "501 5.5.4 BDAT size out of range, closing"),
                          (b"BDAT -1", "501 5.5.4 Syntax: BDAT size [LAST], closing"),
                          (b"BDAT 40000000 LAST", "552 5.3.4 Message size exceeds fixed "
                           "maximum message size, closing")):
            c = self.mx()
            c.cmd("EHLO client.test")
            c.cmd("MAIL FROM:<a@other.test>")
            c.cmd("RCPT TO:<demo@example.test>")
            c.send(cmd + b"\r\n")
            self.assertEqual(c.reply(), want)
            self.assertTrue(c.closed())
        c = self.mx()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@other.test>")
        c.cmd("RCPT TO:<demo@example.test>")
        c.send(b"BDAT 10 LAST\r\nhello")         # 5 of 10, then gone
        c.close()
        # a chunk with the DATA terminator in it is stored byte-exact
        # (test_read_back_byte_identical); here: nothing from the cut one
        time.sleep(0.5)
        self.assertEqual(self.new_files(), before)

    def test_submission_starttls_auth(self):
        c = Conn(self.port("submission"))
        r = c.cmd("EHLO client.test")
        self.assertNotIn("AUTH", r)             # only after STARTTLS
        self.assertEqual(c.cmd("AUTH PLAIN " + base64.b64encode(
            b"\0demo@example.test\0" + self.pw.encode()).decode()),
            "538 5.7.11 Encryption required for requested authentication mechanism")
        self.assertEqual(c.cmd("MAIL FROM:<demo@example.test>"),
                         "530 5.7.0 Authentication required")
        c.close()
        with smtplib.SMTP("127.0.0.1", self.port("submission"), timeout=30) as s:
            s.ehlo("client.test")
            s.starttls(context=self.tls())
            s.ehlo("client.test")
            self.assertIn("PLAIN", s.esmtp_features.get("auth", ""))
            with self.assertRaises(smtplib.SMTPAuthenticationError) as e:
                s.login("demo@example.test", "wrong password!!")
            self.assertEqual(e.exception.smtp_code, 535)
            s.login("demo@example.test", self.pw)
            # only its own addresses (and aliases)
            with self.assertRaises(smtplib.SMTPSenderRefused) as e:
                s.sendmail("other@example.test", ["demo@example.test"], MSG)
            self.assertEqual(e.exception.smtp_code, 553)
            before = self.new_files(2)
            self.assertEqual(s.sendmail("alias@example.test", ["other@example.test"], MSG), {})
            self.assertEqual(self.wait_new(before, account=2), 1)
        # a failed AUTH is logged in a form fail2ban can match
        self.inst.wait_log(r"auth event=login user=demo@example\.test client=127\.0\.0\.1 "
                           r"result=fail")

    def test_submissions_auth_login(self):
        c = Conn(self.port("submissions"), tls_ctx=self.tls())
        self.assertIn("AUTH PLAIN LOGIN", c.cmd("EHLO client.test"))
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
        self.assertEqual(c.cmd(base64.b64encode(b"demo@example.test").decode()),
                         "334 UGFzc3dvcmQ6")
        self.assertEqual(c.cmd(base64.b64encode(self.pw.encode()).decode()),
                         "235 2.7.0 Authentication successful")
        self.assertEqual(c.cmd("AUTH PLAIN"), "503 5.5.1 AUTH not allowed now")
        c.close()
        # a LOGIN user name with a control character; a cancelled AUTH
        c = Conn(self.port("submissions"), tls_ctx=self.tls())
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("AUTH LOGIN " + base64.b64encode(b"demo\t@x").decode()),
                         "501 5.5.2 Cannot decode the response")
        self.assertEqual(c.cmd("AUTH PLAIN"), "334 ")
        self.assertEqual(c.cmd("*"), "501 5.0.0 Authentication cancelled")
        self.assertEqual(c.cmd("AUTH PLAIN " + base64.b64encode(
            b"\0demo@example.test\0" + self.pw.encode()).decode()),
            "235 2.7.0 Authentication successful")
        self.assertEqual(c.cmd("MAIL FROM:<demo@example.test>"), "250 2.1.0 Ok")
        c.close()

    def test_submission_to_remote_is_queued(self):
        """Remote recipients of an authenticated submission go to the
        outbound queue, sealed, durably before the 250; sealpostctl queue
        list and show read them back (as root, with the queue key); the
        spool holds nothing readable."""
        marker = b"QueueMark-%s" % os.urandom(6).hex().encode()
        msg = MSG.replace(b"hello", marker) + marker + b"\r\n"
        before_local = self.new_files(2)
        with smtplib.SMTP_SSL("127.0.0.1", self.port("submissions"), timeout=30,
                              context=self.tls()) as s:
            s.login("demo@example.test", self.pw)
            code, _ = s.mail("alias@example.test", ["SIZE=%d" % len(msg), "RET=HDRS",
                                                    "ENVID=env+2Bid"])
            self.assertEqual(code, 250)
            self.assertEqual(s.rcpt("a@remote.test", ["NOTIFY=SUCCESS,FAILURE",
                                                      "ORCPT=rfc822;a@remote.test"])[0], 250)
            self.assertEqual(s.rcpt("b@remote.test")[0], 250)
            self.assertEqual(s.rcpt("other@example.test")[0], 250)
            code, text = s.data(msg)
            self.assertEqual(code, 250, text)
        self.assertEqual(self.wait_new(before_local, account=2), 1)
        m = self.inst.wait_log(r"smtp event=message id=\S+ size=\d+ rcpts=3 copies=1 encrypted=0 "
                               r"queued=([0-9a-f]{32}) result=accepted")
        qid = m.group(1)
        r = self.ctl("queue", "list")
        self.assertRegex(r.stdout.decode(), r"(?m)^%s +\d+ \S+ \S+ +\d+ +<alias@example\.test> "
                         r"-> 2: <a@remote\.test>, \.\.\.$" % qid)
        show = self.ctl("queue", "show", qid).stdout.decode()
        self.assertIn("from:      <alias@example.test>\n", show)
        self.assertIn("dsn:       ret=HDRS envid=env+id\n", show)
        # the state follows: waiting (the test's resolver answers nothing)
        self.assertIn("to:        <a@remote.test> notify=SUCCESS,FAILURE, "
                      "orcpt=rfc822;a@remote.test waiting\n", show)
        self.assertIn("to:        <b@remote.test> waiting\n", show)
        self.assertNotIn("other@example.test", show)
        # sealed on disk: the marker is in no file of the spool
        spool = os.path.join(self.inst.dir, "data", "queue", "spool")
        files = os.listdir(spool)
        self.assertIn(qid, files)
        self.assertIn(qid + ".env", files)
        for name in files:
            self.assertNotIn(marker, open(os.path.join(spool, name), "rb").read())
            self.assertNotIn(b"remote.test", open(os.path.join(spool, name), "rb").read())
        r = subprocess.run([os.path.join(self.build, "sealpostctl"), "-c", self.inst.conf,
                            "queue", "show", "0" * 32], capture_output=True)
        self.assertEqual((r.returncode, r.stderr), (1, b"sealpostctl: %s: no such message "
                                                    b"in the queue\n" % (b"0" * 32)))

    def test_services_keep_no_descriptors(self):
        """The filter, queue and deliver close each message's memfd
        (a leak found by contrib/bench/smtp took the filter down after
        about 1,000 messages)."""
        def fds(name):
            return len(os.listdir("/proc/%d/fd" % self.inst.service(name)["pid"]))
        before = {n: fds(n) for n in ("filter", "queue", "deliver")}
        with smtplib.SMTP_SSL("127.0.0.1", self.port("submissions"), timeout=30,
                              context=self.tls()) as s:
            s.login("demo@example.test", self.pw)
            for _ in range(30):
                self.assertEqual(s.sendmail("demo@example.test",
                                            ["demo@example.test", "x@remote.test"], MSG), {})
        # the queue holds a message's memfd while an attempt at it is on
        # (outbound-concurrency of them per domain): wait for those to end
        wait_for(lambda: fds("queue") <= before["queue"] + 2, 60,
                 "the queue's attempts to end")
        after = {n: fds(n) for n in ("filter", "queue", "deliver")}
        for n in before:
            self.assertLessEqual(after[n], before[n] + 2, (n, before, after))

    def test_quota(self):
        """Over quota: a declared SIZE larger than the whole quota is
        552 5.2.2 at RCPT; a full mailbox is 452 4.2.2 (try later); an
        undeclared message that does not fit is one 452 4.2.2 after DATA,
        and nothing is stored."""
        self.ctl("user", "add", "tiny@example.test", "--quota", "4K", "--password-file",
                 os.path.join(self.inst.dir, "demo-password"))
        c = self.mx()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@other.test> SIZE=10000")
        self.assertEqual(c.cmd("RCPT TO:<tiny@example.test>"),
                         "552 5.2.2 Message larger than the mailbox quota")
        c.cmd("RSET")
        big = MSG + (b"q" * 750 + b"\r\n") * 3
        c.cmd("MAIL FROM:<a@other.test>")
        self.assertEqual(c.cmd("RCPT TO:<tiny@example.test>"), "250 2.1.5 Ok")
        c.cmd("DATA")
        c.send(big + b".\r\n")
        self.assertRegex(c.reply(), r"^250 ")
        c.cmd("MAIL FROM:<a@other.test>")
        self.assertEqual(c.cmd("RCPT TO:<tiny@example.test>"), "250 2.1.5 Ok")
        c.cmd("DATA")
        c.send(big + b".\r\n")
        self.assertEqual(c.reply(), "452 4.2.2 Mailbox full (over quota), try again later")
        c.cmd("MAIL FROM:<a@other.test> SIZE=%d" % len(big))
        self.assertEqual(c.cmd("RCPT TO:<tiny@example.test>"),
                         "452 4.2.2 Mailbox full, try again later")
        c.close()

    def test_auth_failures_limited(self):
        """Failed AUTH is limited by auth (5 per user and client): then
        even the right password gets 454 4.7.0, logged for fail2ban."""
        self.ctl("user", "add", "guess@example.test", "--password-file",
                 os.path.join(self.inst.dir, "demo-password"))
        codes = []
        for i in range(6):
            c = Conn(self.port("submissions"), tls_ctx=self.tls())
            c.cmd("EHLO client.test")
            codes.append(c.cmd("AUTH PLAIN " + base64.b64encode(
                b"\0guess@example.test\0wrong password %d" % i).decode())[:9])
            c.close()
        self.assertEqual(codes[:5], ["535 5.7.8"] * 5)
        self.assertEqual(codes[5], "454 4.7.0")
        c = Conn(self.port("submissions"), tls_ctx=self.tls())
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("AUTH PLAIN " + base64.b64encode(
            b"\0guess@example.test\0" + self.pw.encode()).decode()),
            "454 4.7.0 Temporary authentication failure, try again later")
        c.close()
        self.inst.wait_log(r"auth event=login user=guess@example\.test client=127\.0\.0\.1 "
                           r"result=limited")

    def test_swaks_and_openssl(self):
        before = self.new_files()
        r = subprocess.run(["swaks", "--to", "demo@example.test", "--from", "s@other.test",
                            "--server", "127.0.0.1:%d" % self.port("smtp"),
                            "--helo", "client.test", "--tls",
                            "--tls-ca-path", self.inst.cafile,
                            "--h-Subject", "via swaks"],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.wait_new(before), 1)
        r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                            "127.0.0.1:%d" % self.port("submission"), "-CAfile",
                            self.inst.cafile, "-verify_return_error", "-quiet",
                            "-no_ign_eof", "-tls1_1"],
                           input=b"EHLO x\r\nQUIT\r\n", capture_output=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)     # TLS 1.1 is refused
        r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                            "127.0.0.1:%d" % self.port("submission"), "-CAfile",
                            self.inst.cafile, "-verify_return_error", "-quiet",
                            "-ign_eof"],
                           input=b"EHLO x\r\nQUIT\r\n", capture_output=True, timeout=30)
        self.assertIn(b"250-AUTH PLAIN LOGIN", r.stdout)
        self.assertIn(b"221 2.0.0", r.stdout)

    def readback(self, addr="other@example.test"):
        """Import the account's new/ and return {uid: stored bytes}."""
        tool = os.path.join(self.build, "tests", "tools", "readmail")
        args = [os.path.join(self.inst.dir, "data"), addr,
                os.path.join(self.inst.dir, "demo-password")]
        r = subprocess.run([tool] + args, capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = {}
        for line in r.stdout.decode().splitlines():
            box, uid = line.split()[:2]
            if box == "INBOX":
                d = subprocess.run([tool, "-n", "-p", uid] + args, capture_output=True,
                                   timeout=120)
                self.assertEqual(d.returncode, 0, d.stderr)
                out[int(uid)] = d.stdout
        return out

    def test_read_back_byte_identical(self):
        """What the store keeps is our Received: header and then exactly
        what the client meant: dots unstuffed, 8-bit and binary-looking
        bytes kept, BDAT byte-exact (dots not touched)."""
        before = set(self.readback())
        body = (b"From: a@other.test\r\nTo: other@example.test\r\nDate: Thu, 26 Nov 2026 "
                b"12:00:00 +0000\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n\r\n"
                b".starts with a dot\r\n..two\r\n8-bit: \xc3\xa9\xff\x01\r\n")
        stuffed = body.replace(b"\r\n.", b"\r\n..")
        c = self.mx()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@other.test> BODY=8BITMIME")
        self.assertEqual(c.cmd("RCPT TO:<other@example.test>"), "250 2.1.5 Ok")
        c.cmd("DATA")
        c.send(stuffed + b".\r\n")
        self.assertRegex(c.reply(), r"^250 ")
        c.cmd("MAIL FROM:<a@other.test>")
        c.cmd("RCPT TO:<other@example.test>")
        c.send(b"BDAT %d LAST\r\n" % len(stuffed) + stuffed)
        self.assertRegex(c.reply(), r"^250 ")
        c.close()
        got = self.readback()
        new = sorted(set(got) - before)
        self.assertEqual(len(new), 2)
        data, bdat = sorted((got[u] for u in new), key=len)
        for stored, want in ((data, body), (bdat, stuffed)):
            head, sep, rest = stored.partition(b"\r\n\r\n")
            self.assertTrue(stored.endswith(want), stored[-200:])
            received = stored[:len(stored) - len(want)]
            self.assertRegex(received.decode(),
                             r"^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n"
                             r"\tby mail\.example\.test \(sealpost\) with ESMTP id "
                             r"[0-9a-f]{16}\.\d+\r\n\tfor <other@example\.test>; "
                             r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r\n$")

    def test_smtputf8(self):
        """RFC 6531: a UTF-8 sender with SMTPUTF8 is accepted, stored with
        its UTF-8 header, and the Received: header says UTF8SMTP."""
        before = set(self.readback())
        msg = ("From: Jos\u00e9 <jos\u00e9@\u00e9xample.test>\r\nTo: other@example.test\r\n"
               "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\nSubject: \u00fcber\r\n\r\n"
               "\u00e7a va\r\n").encode()
        c = self.mx()
        self.assertIn("SMTPUTF8", c.cmd("EHLO client.test"))
        self.assertEqual(c.cmd("MAIL FROM:<jos\u00e9@\u00e9xample.test>"),
                         "553 5.6.7 UTF-8 address without SMTPUTF8")
        self.assertEqual(c.cmd("MAIL FROM:<jos\u00e9@\u00e9xample.test> SMTPUTF8 BODY=8BITMIME"),
                         "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<other@example.test>"), "250 2.1.5 Ok")
        c.cmd("DATA")
        c.send(msg + b".\r\n")
        self.assertRegex(c.reply(), r"^250 ")
        c.close()
        got = self.readback()
        new = sorted(set(got) - before)
        self.assertEqual(len(new), 1)
        stored = got[new[0]]
        self.assertTrue(stored.endswith(msg))
        self.assertIn(b"with UTF8SMTP id ", stored)

    def test_kill_9_mid_data(self):
        """kill -9 of the session in the middle of DATA: nothing stored;
        of deliver: the transaction gets a 4xx (never 250), and once the
        master has restarted deliver the client's retry is stored once."""
        before = self.new_files()
        c = self.mx()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@other.test>")
        c.cmd("RCPT TO:<demo@example.test>")
        c.cmd("DATA")
        c.send(MSG + b"half of it\r\n" * 1000)
        os.kill(self.inst.session_pid(c.sock, "smtp"), signal.SIGKILL)
        self.assertTrue(c.closed())
        time.sleep(0.3)
        self.assertEqual(self.new_files(), before)
        d = os.path.join(self.inst.dir, "data", "mail", "1", "new")
        self.assertEqual([n for n in os.listdir(d) if n.startswith(".")], [])

        c = self.mx()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@other.test>")
        c.cmd("RCPT TO:<demo@example.test>")
        c.cmd("DATA")
        c.send(MSG + b"more\r\n" * 1000)
        old = self.inst.service("deliver")["pid"]
        os.kill(old, signal.SIGKILL)
        c.send(b".\r\n")
        r = c.reply()
        self.assertRegex(r, r"^4\d\d 4\.")
        c.close()
        self.inst.wait_services_ready()
        self.assertNotEqual(self.inst.service("deliver")["pid"], old)
        self.assertEqual(self.new_files(), before)
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=30) as s:
            self.assertEqual(s.sendmail("a@other.test", ["demo@example.test"], MSG), {})
        self.assertEqual(self.wait_new(before), 1)

    def sendmail(self, args, data, user=None):
        def drop():
            os.setgid(65534)
            os.setuid(65534)
        return subprocess.run([os.path.join(self.build, "sealpost-sendmail"), "-C",
                               self.inst.conf] + args, input=data, capture_output=True,
                              timeout=60, preexec_fn=drop if user == "nobody" else None)

    def test_sendmail(self):
        """sealpost-sendmail -t -i as cron and PHP use it: the caller's uid
        (from the kernel) maps to its local-sender address; Bcc: is never
        sent; From:, Date: and Message-ID: are added when missing; the
        message is a submission like any other."""
        before = set(self.readback())
        before_demo = self.new_files(1)
        body = (b"To: Other <other@example.test>\nBcc: demo@example.test\n"
                b"Subject: cron job\n\nline\n.\nafter a lone dot\n")
        r = self.sendmail(["-t", "-i"], body)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.wait_new(before_demo, account=1), 1)
        got = self.readback()
        new = sorted(set(got) - before)
        self.assertEqual(len(new), 1)
        stored = got[new[0]]
        self.assertRegex(stored.decode(), r"^Received: from local \(uid 0\)\r\n\tby "
                         r"mail\.example\.test \(sealpost\) with ESMTPA id ")
        self.assertIn(b"\r\nFrom: <other@example.test>\r\nDate: ", stored)
        self.assertIn(b"\r\nMessage-ID: <", stored)
        self.assertNotIn(b"Bcc:", stored)
        self.assertTrue(stored.endswith(b"\r\n\r\nline\r\n.\r\nafter a lone dot\r\n"))
        # without -i a lone dot ends the message
        r = self.sendmail(["other@example.test"], b"Subject: x\n\nkept\n.\ndropped\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        got2 = self.readback()
        last = got2[max(got2)]
        self.assertTrue(last.endswith(b"\r\nkept\r\n"), last[-60:])
        # refusals: an address the user does not own, an unknown recipient
        r = self.sendmail(["-f", "demo@example.test", "other@example.test"], b"Subject: x\n\nx\n")
        self.assertEqual(r.returncode, 69)
        self.assertIn(b"553 5.7.1", r.stderr)
        r = self.sendmail(["ghost@example.test"], b"Subject: x\n\nx\n")
        self.assertEqual((r.returncode, r.stderr), (67, b"sendmail: 550 5.1.1 No such user here\n"))
        # mailq, for root
        r = subprocess.run([os.path.join(self.build, "sealpost-sendmail"), "-C", self.inst.conf,
                            "-bp"], capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_pickup_refuses_unmapped_users(self):
        """A user without a local-sender line is refused by the master,
        from the uid the kernel gives, whatever the client says."""
        for d in (self.inst.tmp, self.inst.dir, os.path.join(self.inst.dir, "run")):
            os.chmod(d, 0o755)
        os.chmod(self.inst.conf, 0o644)
        r = self.sendmail(["other@example.test"], b"Subject: x\n\nx\n", user="nobody")
        self.assertEqual(r.returncode, 77, r.stderr)      # EX_NOPERM, before connecting
        sock = os.path.join(self.inst.dir, "run", "pickup.sock")
        code = ("import socket; s = socket.socket(socket.AF_UNIX); s.connect(%r); "
                "print(s.recv(200).decode(), end='')" % sock)
        r = subprocess.run(["python3", "-c", code], capture_output=True, timeout=30,
                           preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)))
        self.assertEqual(r.stdout, b"554 5.7.1 uid 65534 may not send mail here "
                         b"(no local-sender line)\r\n", r.stderr)
        self.inst.wait_log(r"master event=refused listener=pickup uid=65534 "
                           r"reason=no-local-sender")

    # -- refusals -------------------------------------------------------
    def test_sequence_errors(self):
        """T08"""
        c = self.mx()
        self.assertEqual(c.cmd("MAIL FROM:<a@other.test>"), "503 5.5.1 Send EHLO or HELO first")
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("RCPT TO:<demo@example.test>"), "503 5.5.1 Need MAIL before RCPT")
        self.assertEqual(c.cmd("DATA"), "503 5.5.1 Need MAIL and RCPT before DATA")
        self.assertEqual(c.cmd("MAIL FROM:<a@other.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("MAIL FROM:<a@other.test>"), "503 5.5.1 Nested MAIL command")
        self.assertEqual(c.cmd("DATA"), "554 5.5.1 No valid recipients")
        self.assertEqual(c.cmd("RSET"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<demo@example.test>"), "503 5.5.1 Need MAIL before RCPT")
        self.assertEqual(c.cmd("FOO bar"), "500 5.5.2 Command unrecognized")
        c.send(b"QUIT\r\nNOOP\r\n")
        self.assertEqual(c.reply(), "221 2.0.0 mail.example.test Bye")
        self.assertTrue(c.closed())
        self.assertEqual(c.buf, b"")                # nothing after QUIT

    def test_address_and_parameter_errors(self):
        """T03, T05, T06"""
        c = self.mx()
        c.cmd("EHLO client.test")
        for cmd, want in (
                ("MAIL FROM:<;sleep 10;>", "501 5.1.7"),
                ("MAIL FROM:<$(id)@other.test>", "501 5.1.7"),
                ("MAIL FROM: <a@other.test>", "501 5.5.4"),
                ("MAIL FROM:<a@other.test> SIZE=99999999999999999999", "501 5.5.4"),
                ("MAIL FROM:<a@other.test> SIZE=-1", "501 5.5.4"),
                ("MAIL FROM:<a@other.test> BODY=8BITMIME BODY=7BIT", "555 5.5.4"),
                ("MAIL FROM:<a@other.test> RET=FULL RET=HDRS", "555 5.5.4"),
                ("MAIL FROM:<a@other.test> FOO=bar", "555 5.5.4"),
                ("MAIL FROM:<a@other.test> ENVID=a+0D+0Ab", "501 5.5.4"),
                ("MAIL FROM:<\"a\\\"@other.test>", "501 5.5.4"),
                ("MAIL FROM:<caf\u00e9@other.test>", "553 5.6.7"),
                ("MAIL FROM:<a@other.test> SIZE=40000000", "552 5.3.4")):
            if c.sock.fileno() == -1 or cmd.endswith("SIZE=-1"):
                c.close()           # a fresh connection: 10 errors close one
                c = self.mx()
                c.cmd("EHLO client.test")
            r = c.cmd(cmd)
            self.assertTrue(r.startswith(want + " "), (cmd, want, r))
        # a backquote is atext (RFC 5322 3.2.3): valid, and never near a shell
        self.assertEqual(c.cmd("MAIL FROM:<`id`@other.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RSET"), "250 2.0.0 Ok")
        c.send(b"MAIL FROM:<a\x00b@other.test>\r\n")
        self.assertEqual(c.reply(), "500 5.5.2 NUL byte in command")
        self.assertEqual(c.cmd("MAIL FROM:<a@other.test>"), "250 2.1.0 Ok")
        c.send(b"RCPT TO:<demo@example.test>\x00RCPT TO:<other@example.test>\r\n")
        self.assertEqual(c.reply(), "500 5.5.2 NUL byte in command")
        # "$", "{" and "}" are atext: a valid address, and no such user
        self.assertEqual(c.cmd("RCPT TO:<${run{x}}@example.test>"),
                         "550 5.1.1 No such user here")
        c.close()
        c = self.mx()
        self.assertTrue(c.cmd("EHLO " + "a" * 300).startswith("501 5.5.4"))
        self.assertTrue(c.cmd("EHLO bad\u00ffname").startswith("501 5.5.4"))
        c.close()

    def test_long_lines(self):
        """T04"""
        c = self.mx()
        c.send(b"NOOP " + b"x" * (1 << 20) + b"\r\n")
        self.assertEqual(c.reply(), "500 5.5.2 Line too long (at most 512 octets)")
        self.assertEqual(c.cmd("EHLO client.test").split("\n")[0], "250-mail.example.test")
        self.assertTrue(c.cmd("MAIL FROM:<%s@other.test>" % ("a" * 10000)).startswith("500 5.5.2"))
        self.assertTrue(c.cmd("MAIL FROM:<%s@other.test>" % ("a" * 65)).startswith("501 5.1.7"))
        self.assertTrue(c.cmd("RCPT TO:<a@%s.test>" % ("b" * 300)).startswith("50"))
        self.assertEqual(c.cmd("MAIL FROM:<a@other.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<demo@example.test>"), "250 2.1.5 Ok")
        before = self.new_files()
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        c.send(MSG + b"y" * 1001 + b"\r\n.\r\n")
        self.assertEqual(c.reply(), "554 5.6.0 Message has a line longer than 1000 "
                         "octets (RFC 5321 4.5.3.1.6)")
        time.sleep(0.3)
        self.assertEqual(self.new_files(), before)
        c.close()

    def test_smuggling(self):
        """Every end-of-data variant of SMTP smuggling: the connection is
        closed, nothing stored, the smuggled MAIL never read."""
        variants = [b"\n.\n", b"\r.\r", b"\n.\r\n", b"\r\n.\n", b"\r\n.\r"]
        before = self.new_files()
        for v in variants:
            c = self.mx()
            c.cmd("EHLO client.test")
            c.cmd("MAIL FROM:<a@other.test>")
            c.cmd("RCPT TO:<demo@example.test>")
            self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
            c.send(MSG + b"text" + v + b"MAIL FROM:<evil@other.test>\r\n"
                   b"RCPT TO:<demo@example.test>\r\nDATA\r\nSubject: smuggled\r\n.\r\n")
            self.assertEqual(c.reply(), "521 5.5.2 mail.example.test Bare CR or LF "
                             "received, closing (RFC 5321 2.3.8)", v)
            self.assertTrue(c.closed())
        # a bare LF in a command, too
        c = self.mx()
        c.send(b"EHLO client.test\nMAIL FROM:<a@other.test>\r\n")
        self.assertTrue(c.reply().startswith("521 5.5.2"))
        time.sleep(0.3)
        self.assertEqual(self.new_files(), before)

    def test_relay_matrix(self):
        """T12"""
        c = self.mx()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<x@other.test>")
        for rcpt in ("victim@other.test", "victim@[192.0.2.1]", "victim@other.test.",
                     "@example.test:victim@other.test"):
            r = c.cmd("RCPT TO:<%s>" % rcpt)
            self.assertTrue(r.startswith("554 5.7.1 ") or r.startswith("501 "), (rcpt, r))
        for rcpt in ("victim%other.test@example.test", "\"victim@other.test\"@example.test",
                     "other.test!victim@example.test"):
            self.assertEqual(c.cmd("RCPT TO:<%s>" % rcpt), "550 5.1.1 No such user here", rcpt)
        self.assertTrue(c.cmd("RCPT TO:<victim@other.test@example.test>").startswith("501 "))
        self.assertEqual(c.cmd("RCPT TO:<DEMO@EXAMPLE.TEST>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<Postmaster>"), "250 2.1.5 Ok")
        c.close()
        c = Conn(self.port("submission"))
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("MAIL FROM:<x@other.test>"), "530 5.7.0 Authentication required")
        c.close()

    def test_too_many_recipients_and_errors(self):
        """T07; and too many errors close the connection."""
        c = self.mx()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<x@other.test>")
        c.send(b"RCPT TO:<demo@example.test>\r\n" * 25)
        replies = [c.reply() for _ in range(25)]
        self.assertEqual(replies[:20], ["250 2.1.5 Ok"] * 20)
        self.assertEqual(replies[20:], ["452 4.5.3 Too many recipients"] * 5)
        c.close()
        c = self.mx()
        for _ in range(9):
            self.assertEqual(c.cmd("BOGUS"), "500 5.5.2 Command unrecognized")
        c.send(b"BOGUS\r\n")
        self.assertEqual(c.reply(), "500 5.5.2 Command unrecognized")
        self.assertEqual(c.reply(), "421 4.7.0 mail.example.test Too many errors, closing")
        self.assertTrue(c.closed())

    def test_early_talkers(self):
        """T10: data before the greeting, and the body before 354."""
        c = Conn(self.port("smtp"), greet=False)
        c.send(b"EHLO early.test\r\n")
        self.assertEqual(c.reply(), "554 5.5.1 mail.example.test Protocol error: "
                         "data sent before the greeting")
        self.assertTrue(c.closed())
        c = self.mx()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<x@other.test>")
        c.cmd("RCPT TO:<demo@example.test>")
        before = self.new_files()
        c.send(b"DATA\r\n" + MSG + b".\r\n")
        self.assertEqual(c.reply(), "554 5.5.0 Protocol error: message data sent "
                         "before the 354 reply")
        self.assertTrue(c.closed())
        time.sleep(0.3)
        self.assertEqual(self.new_files(), before)

    def test_pipelined_starttls(self):
        """CVE-2011-0411: what is pipelined after STARTTLS is never read."""
        c = self.mx()
        c.cmd("EHLO client.test")
        c.send(b"STARTTLS\r\nMAIL FROM:<injected@other.test>\r\n")
        self.assertEqual(c.reply(), "554 5.5.1 Commands pipelined after STARTTLS, closing")
        self.assertTrue(c.closed())

    def test_filter_sanity_checks(self):
        c = self.mx()
        c.cmd("EHLO client.test")
        before = self.new_files()
        for msg, want in (
                (b"Date: x\r\nSubject: no from\r\n\r\nbody\r\n",
                 "550 5.6.0 Message has no From: header field (RFC 5322 3.6)"),
                (b"From: a@b\r\nFrom: c@d\r\nDate: x\r\n\r\nbody\r\n",
                 "550 5.6.0 More than one From: header field (RFC 5322 3.6)"),
                (b"From: a@b\r\nDate: x\r\nbroken header\r\n\r\nbody\r\n",
                 "550 5.6.0 Malformed message header line 3 (RFC 5322 2.2)"),
                (b"From: a@b\r\nDate: x\r\n\r\nNUL \x00 here\r\n",
                 "554 5.6.0 Message contains NUL bytes")):
            c.cmd("MAIL FROM:<x@other.test>")
            c.cmd("RCPT TO:<demo@example.test>")
            self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
            c.send(msg + b".\r\n")
            self.assertEqual(c.reply(), want)
        time.sleep(0.3)
        self.assertEqual(self.new_files(), before)
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        c.close()

    def test_big_message(self):
        """A 20 MB message through smtplib (SIZE declared), and one over
        the limit refused at MAIL and, undeclared, at the end of DATA."""
        body = b"".join(b"%08d " % i + b"z" * 60 + b"\r\n" for i in range(20 * 1024 * 1024 // 70))
        before = self.new_files()
        with smtplib.SMTP("127.0.0.1", self.port("smtp"), timeout=120) as s:
            s.ehlo("client.test")
            self.assertEqual(s.sendmail("s@other.test", ["demo@example.test"], MSG + body), {})
            with self.assertRaises(smtplib.SMTPSenderRefused) as e:
                s.sendmail("s@other.test", ["demo@example.test"], MSG + body + body)
            self.assertEqual(e.exception.smtp_code, 552)
        self.assertEqual(self.wait_new(before), 1)
        c = self.mx()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<x@other.test>")
        c.cmd("RCPT TO:<demo@example.test>")
        c.cmd("DATA")
        c.send(MSG + body + body + b".\r\n")
        self.assertEqual(c.reply(), "552 5.3.4 Message size exceeds fixed maximum message size")
        c.close()


class Smtp(SmtpBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class SmtpPlainBuild(SmtpBase, unittest.TestCase):
    """Without sanitizers: the smtp allow-list differs."""
    build = PLAIN or BUILD


class PerClientLimit(unittest.TestCase):
    """max-sessions-per-client: one address cannot take every session."""

    def test_fourth_connection_refused(self):
        with Instance("perclient", extra_conf=["max-sessions-per-client 3"]) as inst:
            conns = [Conn(inst.port("smtp")) for _ in range(3)]
            c = Conn(inst.port("smtp"), greet=False)
            self.assertEqual(c.reply(), "421 4.7.0 Too many connections from your "
                             "address, try again later")
            self.assertTrue(c.closed())
            inst.wait_log(r"master event=refused listener=smtp client=127\.0\.0\.1 "
                          r"reason=too-many-connections sessions=3")
            conns[0].cmd("QUIT")
            conns[0].closed()
            deadline = time.time() + 10
            while True:         # the master reaps the session first
                c = Conn(inst.port("smtp"), greet=False)
                r = c.reply()
                if r.startswith("220 ") or time.time() > deadline:
                    break
                time.sleep(0.1)
            self.assertRegex(r, r"^220 mail\.example\.test ESMTP")
            inst.stop()
            self.assertEqual(inst.bad_log_lines(), [])


class HideClient(unittest.TestCase):
    """received-hide-client yes: an authenticated user's Received: header
    leaves out the client; mail from other servers keeps it."""

    def test_received_without_client(self):
        with Instance("hide", extra_conf=["instance-type test", "kdf-strength test",
                                          "received-hide-client yes"]) as inst:
            inst.wait_services_ready()
            pw = open(os.path.join(inst.dir, "demo-password")).read().strip()
            with smtplib.SMTP_SSL("127.0.0.1", inst.port("submissions"), timeout=30,
                                  context=inst.tls_context()) as s:
                s.login("demo@example.test", pw)
                self.assertEqual(s.sendmail("demo@example.test", ["demo@example.test"], MSG), {})
            with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
                s.ehlo("client.test")
                self.assertEqual(s.sendmail("a@other.test", ["demo@example.test"], MSG), {})
            tool = os.path.join(BUILD, "tests", "tools", "readmail")
            args = [os.path.join(inst.dir, "data"), "demo@example.test",
                    os.path.join(inst.dir, "demo-password")]
            r = subprocess.run([tool] + args, capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            stored = [subprocess.run([tool, "-n", "-p", l.split()[1]] + args,
                                     capture_output=True, timeout=60).stdout
                      for l in r.stdout.decode().splitlines() if l.startswith("INBOX ")]
            self.assertEqual(len(stored), 2)
            authed = [m for m in stored if b"ESMTPSA" in m.split(b"\r\n\r\n")[0]]
            mx = [m for m in stored if b"ESMTPSA" not in m.split(b"\r\n\r\n")[0]]
            self.assertEqual(len(authed), 1)
            self.assertRegex(authed[0].decode("utf-8", "replace"),
                             r"^Received: by mail\.example\.test \(sealpost\) with ESMTPSA ")
            self.assertNotIn(b"127.0.0.1", authed[0])
            self.assertRegex(mx[0].decode("utf-8", "replace"),
                             r"^Received: from client\.test \(\[127\.0\.0\.1\]\)")
            inst.stop()
            self.assertEqual(inst.bad_log_lines(), [])


class DiskFull(unittest.TestCase):
    """A full disk under the store: the transaction gets 452 4.3.1 (try
    again later), never a 250, and nothing half-written stays.  DATA_DIR
    is a 4 MiB tmpfs for this instance, filled up by the test."""

    def test_disk_full_is_a_temporary_failure(self):
        inst = Instance("diskfull", extra_conf=["instance-type test", "kdf-strength test"])
        env = inst._env()
        subprocess.run([os.path.join(TOP, "contrib", "dev"), "instance"], env=env,
                       check=True, capture_output=True)
        with open(inst.conf, "a") as f:
            f.write("instance-type test\nkdf-strength test\n")
        data = os.path.join(inst.dir, "data")
        saved = os.path.join(inst.tmp, "data.saved")
        subprocess.run(["cp", "-a", data, saved], check=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0711", "tmpfs", data],
                       check=True)
        try:
            subprocess.run(["cp", "-a", saved + "/.", data + "/"], check=True)
            inst.start()
            inst.wait_services_ready()
            with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
                s.ehlo("client.test")
                self.assertEqual(s.sendmail("a@other.test", ["demo@example.test"], MSG), {})
            # fill the disk, leaving less than the next message needs
            filler = os.path.join(data, "filler")
            with open(filler, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass
            os.truncate(filler, max(0, os.path.getsize(filler) - 100 * 1024))
            new = os.path.join(data, "mail", "1", "new")
            before = sorted(os.listdir(new))
            big = MSG + (b"y" * 70 + b"\r\n") * 5000      # 360 KB
            with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
                s.ehlo("client.test")
                with self.assertRaises(smtplib.SMTPDataError) as e:
                    s.sendmail("a@other.test", ["demo@example.test"], big)
                self.assertEqual(e.exception.smtp_code, 452)
                self.assertEqual(e.exception.smtp_error,
                                 b"4.3.1 Insufficient system storage, try again later")
            self.assertEqual(sorted(os.listdir(new)), before)     # no temporary left
            m = inst.wait_log(r"deliver event=deliver account=1 size=\d+ result=fail "
                              r"reason=(.*)")
            self.assertIn(r"No\x20space\x20left\x20on\x20device", m.group(1))
            os.unlink(filler)
            with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
                s.ehlo("client.test")
                self.assertEqual(s.sendmail("a@other.test", ["demo@example.test"], big), {})
            self.assertEqual(len(os.listdir(new)), len(before) + 1)
        finally:
            inst.stop()
            subprocess.run(["umount", data])
            bad = inst.bad_log_lines()
            inst.cleanup()
        self.assertEqual(bad, [])


class Timeouts(unittest.TestCase):
    """Every state has a timeout (slowloris): before EHLO, between
    commands, in DATA between reads, and for the whole of DATA however
    slowly bytes trickle in.  test-smtp-timeouts (a test-hooks key) makes
    them all 1 s here, the DATA total 3 s; the real values are in smtp.c."""

    def test_every_state_times_out(self):
        with Instance("timeouts", extra_conf=["test-smtp-timeouts 1000"]) as inst:
            want = "421 4.4.2 mail.example.test Timeout exceeded"
            c = Conn(inst.port("smtp"))                     # before EHLO
            self.assertEqual(c.reply(), want)
            self.assertTrue(c.closed())
            c = Conn(inst.port("smtp"))
            c.cmd("EHLO client.test")
            c.send(b"NOOP")                                 # half a command
            self.assertEqual(c.reply(), want)
            c = Conn(inst.port("smtp"))
            c.cmd("EHLO client.test")
            c.cmd("MAIL FROM:<a@other.test>")
            c.cmd("RCPT TO:<demo@example.test>")
            self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
            sent = 0
            for _ in range(15):                             # a byte every 0.4 s
                try:
                    c.send(b"x")
                except OSError:
                    break
                sent += 1
                time.sleep(0.4)
            self.assertEqual(c.reply(), want)
            # cut off by the 3 s total: no read ever waited 1 s
            self.assertLess(sent, 15)
            inst.stop()
            self.assertEqual(inst.bad_log_lines(), [])
