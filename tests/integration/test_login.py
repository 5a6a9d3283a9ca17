"""The login path: only the auth service can tell the master that a
connection is an account; the master then starts a mail process for that
account, as the account's own uid, jailed in its own folder, and the login
process relays.  Driven by Python's imaplib over implicit TLS, with a test
account (test-account exists only in --enable-test-hooks builds)."""

import imaplib
import os
import re
import subprocess
import unittest

from sealpost_test import BUILD, Instance, connect, proc_status as status, read_line

HOOKS = "#define SP_TEST_HOOKS 1" in open(os.path.join(BUILD, "config.h")).read()
ACCOUNT_UID = 200000 + 7
# what a logged-in client is offered (IMAP_CAPS_AUTH, APPENDLIMIT)
CAPS = (b"IMAP4rev1 LITERAL+ NAMESPACE UNSELECT UIDPLUS MOVE ENABLE ID IDLE ESEARCH "
        b"SPECIAL-USE CREATE-SPECIAL-USE CHILDREN LIST-EXTENDED LIST-STATUS QUOTA "
        b"QUOTA=RES-STORAGE STATUS=SIZE CONDSTORE QRESYNC IMAP4rev2 UTF8=ACCEPT COMPRESS=DEFLATE "
        b"APPENDLIMIT=52428800")


@unittest.skipUnless(HOOKS, "needs --enable-test-hooks (test-account)")
class Login(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("login", extra_conf=[
            "test-account demo@example.test 's3cret pass' 7".replace("'", '"')]).start()
        cls.inst.wait_services_ready()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        bad = [l for l in cls.inst.bad_log_lines() if "signal=9" not in l]
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    def imaps(self):
        return imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                                 ssl_context=self.inst.tls_context(), timeout=15)

    def test_login_spawns_confined_mail_process(self):
        m = self.imaps()
        self.assertEqual(m.capabilities, ("IMAP4REV1", "IMAP4REV2", "SASL-IR", "AUTH=PLAIN", "ID"))
        typ, data = m.login("demo@example.test", "s3cret pass")
        self.assertEqual((typ, data), ("OK", [b"[CAPABILITY " + CAPS + b"] Logged in"]))
        typ, data = m.xatom("XSPTEST")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("XSPTEST"),
                         [b"uid=%d account=7" % ACCOUNT_UID])
        pat = r"event=login account=7 uid=%d proc=imap-mail pid=(\d+)" % ACCOUNT_UID
        self.inst.wait_log(pat)
        pid = int(re.findall(pat, self.inst.log())[-1])     # this login's
        st = status(pid)
        self.assertEqual(st["Uid"].split(), [str(ACCOUNT_UID)] * 4)
        self.assertEqual(st["Groups"], "")
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        # its whole world: its folder at /mail, gconv and zoneinfo read-only
        root = "/proc/%d/root" % pid
        self.assertEqual(sorted(os.listdir(root)), ["mail", "usr"])
        mounts = open("/proc/%d/mountinfo" % pid).read().splitlines()
        self.assertRegex(mounts[0], r" / / ro,nosuid,nodev,noexec")
        mail = [l for l in mounts if " /mail " in l][0]
        self.assertIn("/data/mail/7 /mail rw,nosuid,nodev,noexec", mail)
        others = [l.split()[4] for l in mounts[1:] if " /mail " not in l]
        self.assertEqual(sorted(others), ["/usr/lib/x86_64-linux-gnu/gconv",
                                          "/usr/share/zoneinfo"])
        folder = os.path.join(self.inst.dir, "data", "mail", "7")
        fst = os.stat(folder)
        # store/layout.h: the deliver group may pass through, nobody else
        self.assertEqual((fst.st_uid, fst.st_mode & 0o777), (ACCOUNT_UID, 0o710))
        # the login process is still the unprivileged relay
        login = int(self.inst.wait_log(r"listener=imaps client=127\.0\.0\.1:%d "
                                       r"proc=imap-login pid=(\d+)"
                                       % m.sock.getsockname()[1]).group(1))
        self.assertEqual(status(login)["Uid"].split()[0],
                         str(__import__("pwd").getpwnam("_sp_login").pw_uid))
        self.assertEqual(m.noop()[0], "OK")
        self.assertIn("seccomp=on", self.inst.status()["session_sandbox"]["imap-mail"])
        self.assertEqual(m.logout()[0], "BYE")
        self.inst.wait_log(r"imap-mail event=disconnect account=7 reason=logout")

    def test_wrong_password_and_unknown_user(self):
        for user, pw in (("demo@example.test", "wrong"), ("nobody@example.test", "s3cret pass")):
            m = self.imaps()
            with self.assertRaises(imaplib.IMAP4.error) as e:
                m.login(user, pw)
            self.assertIn("[AUTHENTICATIONFAILED] Authentication failed", str(e.exception))
            m.logout()
        self.inst.wait_log(r"auth event=login user=nobody@example.test client=127.0.0.1 result=fail")
        self.assertNotRegex(self.inst.log(), r"s3cret|wrong")   # no password logged

    def test_login_needs_tls(self):
        with connect(self.inst.port("imap")) as c:
            self.assertIn(b"LOGINDISABLED", read_line(c))
            c.sendall(b"a LOGIN demo@example.test \"s3cret pass\"\r\n")
            self.assertEqual(read_line(c), b"a NO [PRIVACYREQUIRED] Login only over TLS")

    def test_starttls_then_login(self):
        """143: STARTTLS, then the TLS capabilities, then LOGIN (imaplib)."""
        m = imaplib.IMAP4("127.0.0.1", self.inst.port("imap"), timeout=15)
        self.assertIn("LOGINDISABLED", m.capabilities)
        self.assertIn("STARTTLS", m.capabilities)
        self.assertNotIn("AUTH=PLAIN", m.capabilities)
        typ, _ = m.starttls(ssl_context=self.inst.tls_context())
        self.assertEqual(typ, "OK")
        self.assertEqual(m.capabilities, ("IMAP4REV1", "IMAP4REV2", "SASL-IR", "AUTH=PLAIN", "ID"))
        typ, data = m.login("demo@example.test", "s3cret pass")
        self.assertEqual(typ, "OK")
        m.logout()

    def test_starttls_pipelining_refused(self):
        """What is pipelined after STARTTLS is never read (CVE-2011-0411)."""
        with connect(self.inst.port("imap")) as c:
            read_line(c)
            c.sendall(b"a STARTTLS\r\nb LOGIN demo@example.test x\r\n")
            self.assertEqual(read_line(c), b"* BYE Commands pipelined after STARTTLS")

    def test_authenticate_plain(self):
        """AUTHENTICATE PLAIN with SASL-IR and with a continuation; a
        cancel; a wrong password; an authzid naming someone else."""
        import base64
        def b64(z, u, p):
            return base64.b64encode(z + b"\0" + u + b"\0" + p)
        c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        read_line(c)
        c.sendall(b"a AUTHENTICATE PLAIN\r\n")
        self.assertEqual(read_line(c), b"+ ")
        c.sendall(b"*\r\n")
        self.assertEqual(read_line(c), b"a BAD Authentication cancelled")
        c.sendall(b"b AUTHENTICATE PLAIN " + b64(b"", b"demo@example.test", b"wrong") + b"\r\n")
        self.assertEqual(read_line(c), b"b NO [AUTHENTICATIONFAILED] Authentication failed")
        c.sendall(b"c AUTHENTICATE PLAIN " + b64(b"other@example.test", b"demo@example.test",
                                                  b"s3cret pass") + b"\r\n")
        self.assertEqual(read_line(c), b"c BAD Invalid SASL PLAIN response")
        c.sendall(b"d AUTHENTICATE CRAM-MD5\r\n")
        self.assertEqual(read_line(c), b"d NO [CANNOT] Unsupported authentication mechanism")
        c.sendall(b"e ID (\"name\" \"test\")\r\n")
        self.assertEqual(read_line(c), b'* ID ("name" "sealpost")')
        self.assertEqual(read_line(c), b"e OK ID completed")
        c.sendall(b"f AUTHENTICATE PLAIN\r\n")
        self.assertEqual(read_line(c), b"+ ")
        c.sendall(b64(b"demo@example.test", b"demo@example.test", b"s3cret pass") + b"\r\n")
        self.assertEqual(read_line(c), b"f OK [CAPABILITY " + CAPS + b"] Logged in")
        c.sendall(b"g XSPTEST\r\n")
        self.assertEqual(read_line(c), b"* XSPTEST uid=%d account=7" % ACCOUNT_UID)
        c.close()
        # imaplib's own AUTHENTICATE
        m = self.imaps()
        typ, _ = m.authenticate("PLAIN", lambda _: b"\0demo@example.test\0s3cret pass")
        self.assertEqual(typ, "OK")
        m.logout()

    def test_pipelined_commands_after_login_reach_the_mail_process(self):
        c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        read_line(c)
        c.sendall(b'a LOGIN demo@example.test "s3cret pass"\r\nb NOOP\r\nc LOGOUT\r\n')
        self.assertEqual(read_line(c), b"a OK [CAPABILITY " + CAPS + b"] Logged in")
        self.assertEqual(read_line(c), b"b OK NOOP completed")
        self.assertEqual(read_line(c), b"* BYE Logging out")
        self.assertEqual(read_line(c), b"c OK LOGOUT completed")
        c.close()

    def test_bad_login_syntax(self):
        c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        read_line(c)
        for line, want in ((b"a LOGIN\r\n", b"a BAD Invalid arguments to LOGIN"),
                           (b"b LOGIN x\r\n", b"b BAD Invalid arguments to LOGIN"),
                           (b'c LOGIN "x y\r\n', b"c BAD unterminated quoted string"),
                           (b"d LOGIN x y z\r\n", b"d BAD Invalid arguments to LOGIN"),
                           (b"e LOGIN " + b"u" * 400 + b" p\r\n", b"e BAD Argument too long"),
                           (b'f LOGIN "a\\x" p\r\n', b"f BAD bad escape in a quoted string"),
                           (b"g LOGIN (x) p\r\n", b"g BAD Invalid arguments to LOGIN"),
                           (b"h LOGIN x {2+}\r\na\0\r\n", b"h BAD Invalid arguments to LOGIN"),
                           (b"i LOGIN x {1025}\r\n",
                            b"i NO [TOOBIG] Command or literal too large"),
                           (b"j NOOP\r\n", b"j OK NOOP completed")):
            c.sendall(line)
            self.assertEqual(read_line(c), want)
        # SECURITY-TESTS T25, T29 before login (a new connection: the
        # error limit of 10 would end this one)
        d = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        read_line(d)
        for line, want in ((b'l LOGIN "al\x00ice" "pw"\r\n', b"l BAD NUL byte in command"),
                           (b'm LOGIN "abc\\"\r\n', b"m BAD unterminated quoted string"),
                           (b"n SELECT INBOX\r\n",
                            b"n BAD Command unknown or not available before login"),
                           (b"o APPEND INBOX {1+}\r\nx\r\n",
                            b"o BAD Command unknown or not available before login"),
                           (b"p FETCH 1 FLAGS\r\n",
                            b"p BAD Command unknown or not available before login"),
                           (b"q NOOP\r\n", b"q OK NOOP completed")):
            d.sendall(line)
            self.assertEqual(read_line(d), want)
        d.close()
        # a non-synchronizing literal over the limit cannot be skipped
        c.sendall(b"k LOGIN x {5000+}\r\n")
        self.assertEqual(read_line(c), b"* BYE [TOOBIG] Literal too large")
        self.assertEqual(c.recv(10), b"")
        c.close()

    def test_login_with_literals(self):
        """RFC 3501 4.3: user name and password as literals, synchronizing
        ("+" first) and LITERAL+; a password with a quote, a backslash,
        8-bit bytes (which only a literal can carry) and braces."""
        pw = "s3cret pass"
        c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        read_line(c)
        c.sendall(b"a LOGIN {17}\r\n")
        self.assertEqual(read_line(c), b"+ Ready for literal data")
        c.sendall(b"demo@example.test {%d+}\r\n%s\r\n" % (len(pw), pw.encode()))
        self.assertRegex(read_line(c), rb"^a OK \[CAPABILITY IMAP4rev1 ")
        c.sendall(b"b LOGOUT\r\n")
        self.assertEqual(read_line(c), b"* BYE Logging out")
        c.close()
        odd = "qu\"ote\\ \u00e9t\u00e9 {3}"
        subprocess.run([os.path.join(BUILD, "sealpostctl"), "-c", self.inst.conf,
                        "user", "add", "odd@example.test", "--password-file", "/dev/stdin"],
                       input=odd.encode() + b"\n", check=True, capture_output=True)
        c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        read_line(c)
        raw = odd.encode()
        c.sendall(b"a LOGIN odd@example.test {%d}\r\n" % len(raw))
        self.assertEqual(read_line(c), b"+ Ready for literal data")
        c.sendall(raw + b"\r\n")
        self.assertRegex(read_line(c), rb"^a OK ")
        c.close()
        self.assertNotIn("ote\\", self.inst.log())

    @staticmethod
    def memory_holds(pid, needles):
        """Which of needles are anywhere in the process's readable memory."""
        found = set()
        with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
            for line in maps:
                addr, perm = line.split()[:2]
                if "r" not in perm or line.rstrip().endswith("[vvar]"):
                    continue
                lo, hi = (int(x, 16) for x in addr.split("-"))
                if hi - lo > 1 << 30:
                    continue            # ASan's shadow: reserved, not data
                for at in range(lo, hi, 1 << 22):       # overlapping 4 MiB reads
                    try:
                        mem.seek(at)
                        data = mem.read(min((1 << 22) + 256, hi - at))
                    except OSError:
                        break
                    found |= {n for n in needles if n in data}
        return found

    def test_no_password_left_in_the_login_process(self):
        """After LOGIN (quoted, literal; failed and successful) and
        AUTHENTICATE PLAIN, no copy of the password (or its base64) is
        left anywhere in the imap-login process: the command, io's and
        OpenSSL's buffers are wiped."""
        import base64
        pw = b"s3cret pass"
        b64 = base64.b64encode(b"\0demo@example.test\0" + pw)
        wrong = b"Wr0ng-Passw0rd-Xyzzy"
        for login, ok in ((b'a LOGIN demo@example.test "%s"\r\n' % pw, True),
                          (b"a LOGIN demo@example.test {%d+}\r\n%s\r\n" % (len(pw), pw), True),
                          (b"a LOGIN demo@example.test %s\r\n" % wrong, False),
                          (b"a AUTHENTICATE PLAIN %s\r\n" % b64, True)):
            c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                    server_hostname="127.0.0.1")
            read_line(c)
            c.sendall(login)
            self.assertRegex(read_line(c), rb"^a OK " if ok else rb"^a NO ")
            c.sendall(b"b NOOP\r\n")
            self.assertEqual(read_line(c), b"b OK NOOP completed")
            pid = int(self.inst.wait_log(r"listener=imaps client=127\.0\.0\.1:%d "
                                         r"proc=imap-login pid=(\d+)"
                                         % c.getsockname()[1]).group(1))
            self.assertEqual(self.memory_holds(pid, {pw, b64, wrong}), set(), login)
            c.close()

    def test_only_auth_can_say_who_a_connection_is(self):
        # a session that claims a login to the master is killed, nothing spawned
        spawned = len(re.findall(r"proc=imap-mail pid=", self.inst.log()))
        with connect(self.inst.port("smtp")) as c:
            read_line(c)
            pid = self.inst.session_pid(c, "smtp")
            c.sendall(b"XSPTEST FORGE\r\n")
            # the master may kill it before its reply leaves: either is fine
            self.assertIn(read_line(c), (b"250 2.0.0 forge result=sent", b""))
            self.assertEqual(c.recv(10), b"")
        self.inst.wait_log(r"master event=malformed proc=smtp pid=%d action=kill" % pid)
        # a session that is not a login session cannot ask auth either
        with connect(self.inst.port("smtp")) as c:
            read_line(c)
            c.sendall(b"XSPTEST AUTHLOGIN demo@example.test\r\n")
            self.assertEqual(read_line(c), b"250 2.0.0 authlogin result=refused")
        self.inst.wait_log(r"auth event=malformed action=drop-session")
        self.assertEqual(len(re.findall(r"proc=imap-mail pid=", self.inst.log())), spawned)
        # auth is still there for everybody else
        m = self.imaps()
        self.assertEqual(m.login("demo@example.test", "s3cret pass")[0], "OK")
        m.logout()
