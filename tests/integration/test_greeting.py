"""Every development listener greets in its protocol, through real clients
(smtplib, imaplib, poplib, openssl s_client, curl), over plaintext and
implicit TLS; refusals are polite and exact; bad input is bounded."""

import imaplib
import os
import poplib
import re
import smtplib
import socket
import ssl
import subprocess
import time
import unittest

from sealpost_test import HOSTNAME, Instance, connect, proc_status, read_line

inst = None


def setUpModule():
    global inst
    inst = Instance("greet").start()


def tearDownModule():
    inst.stop()
    bad = inst.bad_log_lines()
    inst.cleanup() if not bad else None
    if bad:
        raise AssertionError("crash or sanitizer report in the log:\n" + "\n".join(bad))


class SmtpGreeting(unittest.TestCase):
    def check_smtp(self, s):
        code, msg = s.noop()
        self.assertEqual(code, 250)
        code, msg = s.docmd("EHLO", "client.example")
        self.assertEqual(code, 250)
        self.assertTrue(msg.startswith(HOSTNAME.encode() + b"\nPIPELINING\n"), msg)
        code, msg = s.quit()
        self.assertEqual(code, 221)
        self.assertEqual(msg, b"2.0.0 " + HOSTNAME.encode() + b" Bye")

    def test_smtp_plain(self):
        s = smtplib.SMTP(timeout=10)
        code, msg = s.connect("127.0.0.1", inst.port("smtp"))
        self.assertEqual((code, msg), (220, HOSTNAME.encode() + b" ESMTP sealpost"))
        self.check_smtp(s)

    def test_smtp_banner_exact(self):
        for kind in ("smtp", "submission"):
            with connect(inst.port(kind)) as c:
                self.assertEqual(read_line(c),
                                 b"220 " + HOSTNAME.encode() + b" ESMTP sealpost")

    def test_submission_plain(self):
        s = smtplib.SMTP("127.0.0.1", inst.port("submission"), timeout=10)
        self.check_smtp(s)

    def test_submissions_implicit_tls(self):
        ctx = inst.tls_context()    # checks the certificate's IP SAN 127.0.0.1
        s = smtplib.SMTP_SSL("127.0.0.1", inst.port("submissions"),
                             timeout=10, context=ctx)
        self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
        self.check_smtp(s)

    def test_smtp_unknown_and_help(self):
        s = smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=10)
        self.assertEqual(s.docmd("FOO")[0], 500)
        self.assertEqual(s.docmd("HELP")[0], 214)
        self.assertEqual(s.docmd("RSET")[0], 250)
        self.assertEqual(s.docmd("QUIT", "now"), (501, b"5.5.4 Syntax error in parameters"))
        self.assertEqual(s.quit()[0], 221)


class ImapGreeting(unittest.TestCase):
    def check_imap(self, m, caps):
        self.assertEqual(m.welcome, b"* OK [CAPABILITY %s] %s sealpost ready"
                         % (caps, HOSTNAME.encode()))
        self.assertIn("IMAP4REV1", m.capabilities)
        typ, _ = m.noop()
        self.assertEqual(typ, "OK")
        typ, data = m.capability()
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [caps])
        typ, data = m.logout()
        self.assertEqual(typ, "BYE")

    def test_imap_plain(self):
        # no STARTTLS yet: no login without TLS (RFC 3501 7.2.1)
        self.check_imap(imaplib.IMAP4("127.0.0.1", inst.port("imap"), timeout=10),
                        b"IMAP4rev1 IMAP4rev2 STARTTLS LOGINDISABLED ID")

    def test_imaps_implicit_tls(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"),
                              ssl_context=inst.tls_context(), timeout=10)
        self.assertIn(m.sock.version(), ("TLSv1.2", "TLSv1.3"))
        self.check_imap(m, b"IMAP4rev1 IMAP4rev2 SASL-IR AUTH=PLAIN ID")

    def test_imap_login_refused(self):
        m = imaplib.IMAP4("127.0.0.1", inst.port("imap"), timeout=10)
        # raw exchange: imaplib refuses to send LOGIN when LOGINDISABLED
        m.send(b"a1 LOGIN demo secret\r\n")
        self.assertEqual(m.readline(), b"a1 NO [PRIVACYREQUIRED] Login only over TLS\r\n")
        m.send(b"a2 SELECT INBOX\r\n")
        self.assertEqual(m.readline(),
                         b"a2 BAD Command unknown or not available before login\r\n")
        m.logout()


class Pop3Greeting(unittest.TestCase):
    def check_pop3(self, p, tls):
        self.assertEqual(p.getwelcome(),
                         b"+OK " + HOSTNAME.encode() + b" POP3 server ready")
        caps = {"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"}
        self.assertEqual(set(p.capa()), caps | ({"USER", "SASL"} if tls else {"STLS"}))
        if tls:
            self.assertEqual(p.user("demo"), b"+OK Send the password")
        else:
            with self.assertRaises(poplib.error_proto) as e:
                p.user("demo")
            self.assertEqual(str(e.exception),
                             "b'-ERR [AUTH] Login only over TLS: use STLS first'")
        self.assertTrue(p.quit().startswith(b"+OK"))

    def test_pop3_plain(self):
        self.check_pop3(poplib.POP3("127.0.0.1", inst.port("pop3"), timeout=10), False)

    def test_pop3s_implicit_tls(self):
        p = poplib.POP3_SSL("127.0.0.1", inst.port("pop3s"),
                            context=inst.tls_context(), timeout=10)
        self.assertIn(p.sock.version(), ("TLSv1.2", "TLSv1.3"))
        self.check_pop3(p, True)


class RealClients(unittest.TestCase):
    """openssl s_client and curl: clients that are not ours."""

    def s_client(self, port, extra=(), data=b""):
        cmd = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
               "-CAfile", inst.cafile, "-verify_return_error",
               "-verify_hostname", HOSTNAME, "-quiet"] + list(extra)
        return subprocess.run(cmd, input=data, capture_output=True, timeout=30)

    def test_s_client_each_tls_port(self):
        for kind, greet, bye in (("submissions", b"220 ", b"QUIT\r\n"),
                                 ("imaps", b"* OK ", b"a LOGOUT\r\n"),
                                 ("pop3s", b"+OK ", b"QUIT\r\n")):
            r = self.s_client(inst.port(kind), data=bye)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.startswith(greet), (kind, r.stdout))

    def test_tls_1_1_refused(self):
        r = self.s_client(inst.port("imaps"),
                          ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], b"")
        self.assertNotEqual(r.returncode, 0)
        self.assertNotIn(b"* OK", r.stdout)

    def test_curl_pop3s_reads_greeting(self):
        r = subprocess.run(["curl", "-sv", "--max-time", "20", "--cacert", inst.cafile,
                            "--resolve", "%s:%d:127.0.0.1" % (HOSTNAME, inst.port("pop3s")),
                            "pop3s://%s:%d/" % (HOSTNAME, inst.port("pop3s")),
                            "-u", "demo:wrong"],
                           capture_output=True, timeout=30)
        err = r.stderr.decode("utf-8", "replace")
        self.assertIn("< +OK " + HOSTNAME + " POP3 server ready", err)
        self.assertIn("< +OK Capability list follows", err)
        self.assertNotEqual(r.returncode, 0)  # no way to log in yet

    def test_plaintext_on_tls_port_gets_no_protocol_text(self):
        """SECURITY-TESTS T18: no plaintext protocol text on 465/993/995."""
        for kind, probe in (("submissions", b"EHLO x\r\n"),
                            ("imaps", b"a CAPABILITY\r\n"),
                            ("pop3s", b"CAPA\r\n")):
            with connect(inst.port(kind)) as c:
                c.sendall(probe)
                got = b""
                try:
                    while True:
                        d = c.recv(4096)
                        if not d:
                            break
                        got += d
                except (ConnectionResetError, socket.timeout):
                    pass
                # nothing, or a TLS alert record (content type 21)
                self.assertTrue(got == b"" or got[0] == 0x15, (kind, got[:40]))


class HostileInput(unittest.TestCase):
    def test_smtp_long_line_nul_and_error_limit(self):
        with connect(inst.port("smtp")) as c:
            read_line(c)
            c.sendall(b"X" * (1024 * 1024) + b"\r\n")       # T04: 1 MiB line
            self.assertEqual(read_line(c), b"500 5.5.2 Line too long (at most 512 octets)")
            c.sendall(b"NOOP\x00RCPT TO:<b@example.test>\r\n")  # T05
            self.assertEqual(read_line(c), b"500 5.5.2 NUL byte in command")
            c.sendall(b"NOOP\r\n")
            self.assertEqual(read_line(c), b"250 2.0.0 Ok")
            for i in range(8):      # errors 3..10
                c.sendall(b"BOGUS\r\n")
                self.assertEqual(read_line(c), b"500 5.5.2 Command unrecognized")
            # the 10th error is answered, then the session ends
            self.assertEqual(read_line(c),
                             b"421 4.7.0 " + HOSTNAME.encode() + b" Too many errors, closing")
            self.assertEqual(c.recv(10), b"")

    def test_smtp_line_limit_boundary(self):
        """RFC 5321 4.5.3.1.4: 512 octets with CRLF is a command; 513 is not."""
        with connect(inst.port("smtp")) as c:
            read_line(c)
            c.sendall(b"NOOP " + b"a" * 505 + b"\r\n")       # 512 with CRLF
            self.assertEqual(read_line(c), b"250 2.0.0 Ok")
            c.sendall(b"NOOP " + b"a" * 506 + b"\r\n")       # 513
            self.assertEqual(read_line(c), b"500 5.5.2 Line too long (at most 512 octets)")

    def test_imap_bad_tags_literal_and_long_line(self):
        with connect(inst.port("imap")) as c:
            read_line(c)
            c.sendall(b"a+b NOOP\r\n")
            self.assertEqual(read_line(c), b"* BAD Invalid tag or missing command")
            c.sendall(b"\x00 NOOP\r\n")
            self.assertEqual(read_line(c), b"* BAD NUL byte in command")
            c.sendall(b"t1 NOOP " + b"x" * 20000 + b"\r\n")
            self.assertEqual(read_line(c), b"* BAD Line too long")
            c.sendall(b"t2 NOOP\r\n")
            self.assertEqual(read_line(c), b"t2 OK NOOP completed")
            c.sendall(b"t3 LOGIN {4294967295}\r\n")         # T27-style literal
            self.assertEqual(read_line(c), b"t3 NO [TOOBIG] Command or literal too large")
            c.sendall(b"t4 NOOP (((((((((((((((((((((x)))))))))))))))))))))\r\n")
            self.assertRegex(read_line(c), rb"^t4 BAD ")          # nesting depth
            c.sendall(b"t5 LOGIN {4294967295+}\r\n")        # cannot be skipped
            self.assertEqual(read_line(c), b"* BYE [TOOBIG] Literal too large")
            self.assertEqual(c.recv(10), b"")

    def test_pop3_limits(self):
        """SECURITY-TESTS T33: 255 octets with CRLF, then -ERR."""
        with connect(inst.port("pop3")) as c:
            read_line(c)
            c.sendall(b"CAPA " + b"x" * 300 + b"\r\n")
            self.assertEqual(read_line(c), b"-ERR Line too long")
            c.sendall(b"RETR 4294967296\r\n")
            self.assertEqual(read_line(c), b"-ERR Invalid message number")
            c.sendall(b"RETR 1\r\n")
            self.assertEqual(read_line(c),
                             b"-ERR Command not valid in the AUTHORIZATION state")
            c.sendall(b"QUIT\r\n")
            self.assertTrue(read_line(c).startswith(b"+OK"))

    def test_client_closes_mid_handshake(self):
        """A partial ClientHello then close: the next client is served."""
        with connect(inst.port("imaps")) as c:
            c.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        m = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"),
                              ssl_context=inst.tls_context(), timeout=10)
        m.logout()


class Processes(unittest.TestCase):
    def test_session_runs_unprivileged_and_logs(self):
        with connect(inst.port("smtp")) as c:
            read_line(c)
            m = inst.wait_log(r"([0-9a-f]{16}) master event=connect listener=smtp "
                              r"client=127\.0\.0\.1:%d proc=smtp pid=(\d+)"
                              % c.getsockname()[1])
            connid, pid = m.group(1), int(m.group(2))
            st = proc_status(pid)
            uids = st["Uid"].split()
            if os.geteuid() == 0:
                self.assertNotIn("0", uids, st["Uid"])
                self.assertEqual(st["Groups"], "")
            c.sendall(b"QUIT\r\n")
            read_line(c)
        inst.wait_log(connid + r" smtp event=disconnect reason=quit errors=0")

    def test_log_lines_escape_client_bytes(self):
        # a verb with control bytes and spaces never reaches the log raw
        with connect(inst.port("pop3")) as c:
            read_line(c)
            c.sendall(b"QUIT\r\n")
            read_line(c)
        self.assertNotRegex(inst.log(), r"[\x00-\x08\x0b-\x1f\x7f]")


class TlsResumption(unittest.TestCase):
    """TLS 1.3 session tickets shared by every session process (the master
    hands out the keys), with a fresh key exchange (psk_dhe_ke); none for
    TLS 1.2."""

    def resume(self, kind, proto):
        ctx = inst.tls_context()
        ctx.minimum_version = ctx.maximum_version = proto
        reused = []
        session = None
        for i in range(3):
            s = ctx.wrap_socket(connect(inst.port(kind)), server_hostname="127.0.0.1",
                                session=session)
            read_line(s)          # tickets arrive after the handshake (TLS 1.3)
            reused.append(s.session_reused)
            session = s.session
            s.close()
        return reused

    def test_tls13_resumes_across_processes(self):
        for kind in ("imaps", "pop3s", "submissions"):
            self.assertEqual(self.resume(kind, ssl.TLSVersion.TLSv1_3),
                             [False, True, True], kind)

    def test_tls12_does_not_resume(self):
        self.assertEqual(self.resume("imaps", ssl.TLSVersion.TLSv1_2),
                         [False, False, False])
