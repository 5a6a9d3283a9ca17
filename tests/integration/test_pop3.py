"""POP3 (issue 10): the AUTHORIZATION state in pop3-login (CAPA, STLS,
USER/PASS and AUTH PLAIN only over TLS, RFC 2449/2595/5034, response
codes of RFC 3206), the TRANSACTION and UPDATE states in pop3-mail over
the account's INBOX (RFC 1939): every command and refusal with its exact
reply, dot-stuffing, UIDL as IMAP's identity, deletions only at QUIT and
crash-safe (SECURITY-TESTS T31), UIDL stability (T32), argument abuse
(T33), the maildrop lock beside IMAP (T34), pipelining, timeouts and the
quota given back.  Python's poplib and raw sockets."""

import base64
import os
import poplib
import re
import signal
import socket
import time
import unittest

from sealpost_test import (BUILD, HOSTNAME, Instance, Pop3Raw, connect,
                           read_line, wait_for)

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
CONF = ["instance-type test", "kdf-strength test"]


def message(i, body=None):
    return (b"From: a@other.test\r\nTo: p@example.test\r\n"
            b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
            b"Message-ID: <%d@pop3.test>\r\nSubject: pop3 %d\r\n\r\n" % (i, i)
            + (body if body is not None else b"line one of %d\r\nline two\r\n" % i))


def plain_ir(user, pw):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + pw.encode()).decode()


class Pop3Base:
    build = BUILD
    _n = 0

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("pop3", build=cls.build, extra_conf=CONF).start()
        cls.inst.wait_services_ready()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        # the kill -9 test's own kill is not a finding
        bad = [l for l in cls.inst.bad_log_lines() if "signal=9" not in l]
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    def stored(self, addr):
        """The messages of addr's INBOX as stored (our Received: line
        first), in UID order."""
        uv, uids, bodies = self.imap_inbox(addr)
        return [bodies[u] for u in uids]

    def user(self, n=0, body=None):
        """A fresh account with n messages delivered to it."""
        Pop3Base._n += 1
        addr = "p%d-%s@example.test" % (Pop3Base._n, self._testMethodName[-20:].replace("_", ""))
        self.inst.add_user(addr)
        if n:
            self.inst.deliver(addr, [message(i, body) for i in range(1, n + 1)])
        return addr

    def raw(self, addr=None, kind="pop3s"):
        r = Pop3Raw(self.inst, addr, kind=kind)
        self.addCleanup(r.close)
        return r

    def imap_inbox(self, addr):
        """(uidvalidity, [uid...], {uid: BODY[]}) of addr's INBOX via IMAP."""
        m = self.inst.imaps(addr)
        try:
            typ, data = m.select("INBOX", readonly=True)
            uv = int(re.search(rb"UIDVALIDITY (\d+)",
                               b" ".join(m.untagged_responses.get("OK", []))).group(1))
            typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[])")
            bodies = {}
            for d in data:
                if isinstance(d, tuple):
                    bodies[int(re.search(rb"UID (\d+)", d[0]).group(1))] = d[1]
            return uv, sorted(bodies), bodies
        finally:
            m.logout()

    # -- the AUTHORIZATION state --------------------------------------------
    def test_capa_before_and_after_tls(self):
        """RFC 2449 CAPA; RFC 2595: no USER or SASL before TLS, STLS only
        before it; the same list after STLS as on 995."""
        r = self.raw(kind="pop3")
        self.assertEqual(r.greeting, b"+OK " + HOSTNAME.encode() + b" POP3 server ready")
        first, caps = r.multi("CAPA")
        self.assertEqual(first, b"+OK Capability list follows")
        self.assertEqual(caps, [b"TOP", b"UIDL", b"RESP-CODES", b"AUTH-RESP-CODE",
                                b"PIPELINING", b"STLS"])
        p = poplib.POP3("127.0.0.1", self.inst.port("pop3"), timeout=30)
        self.addCleanup(p.close)
        self.assertEqual(p.stls(self.inst.tls_context()), b"+OK Begin TLS negotiation now")
        after = p.capa()
        self.assertEqual(set(after), {"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE",
                                      "PIPELINING", "USER", "SASL"})
        self.assertEqual(after["SASL"], ["PLAIN"])
        s = self.raw()
        self.assertEqual(s.multi("CAPA")[1], [b"TOP", b"UIDL", b"RESP-CODES",
                                              b"AUTH-RESP-CODE", b"PIPELINING",
                                              b"USER", b"SASL PLAIN"])
        # a second STLS, and STLS on 995 (T14)
        self.assertEqual(s.cmd("STLS"), b"-ERR Command not permitted when TLS active")
        with self.assertRaises(poplib.error_proto) as e:
            p.stls(self.inst.tls_context())
        self.assertIn("TLS session already established", str(e.exception))

    def test_no_plaintext_credentials(self):
        """SECURITY-TESTS T15: USER, PASS and AUTH before TLS get -ERR
        [AUTH]; the credentials are never checked."""
        addr = self.user()
        r = self.raw(kind="pop3")
        refusal = b"-ERR [AUTH] Login only over TLS: use STLS first"
        self.assertEqual(r.cmd("USER " + addr), refusal)
        self.assertEqual(r.cmd("PASS " + self.inst.demo_password), refusal)
        self.assertEqual(r.cmd("AUTH PLAIN " + plain_ir(addr, self.inst.demo_password)),
                         refusal)
        self.assertEqual(r.cmd("AUTH"), refusal)
        self.assertEqual(r.cmd("QUIT"), b"+OK " + HOSTNAME.encode() +
                         b" POP3 server signing off")
        self.inst.wait_log(r"pop3-login event=disconnect reason=quit")
        self.assertNotRegex(self.inst.log(), r"auth event=login user=%s" % re.escape(addr))

    def test_user_pass_after_stls(self):
        """poplib over STLS on 110: USER/PASS, STAT, LIST, UIDL, RETR, QUIT."""
        addr = self.user(3)
        msgs = self.stored(addr)
        p = poplib.POP3("127.0.0.1", self.inst.port("pop3"), timeout=30)
        p.stls(self.inst.tls_context())
        self.assertEqual(p.user(addr), b"+OK Send the password")
        size = sum(len(m) for m in msgs)
        self.assertEqual(p.pass_(self.inst.demo_password),
                         b"+OK Logged in, 3 messages (%d octets)" % size)
        self.assertEqual(p.stat(), (3, size))
        resp, lst, _ = p.list()
        self.assertEqual(lst, [b"%d %d" % (i + 1, len(msgs[i])) for i in range(3)])
        resp, lines, octets = p.retr(2)
        self.assertEqual(resp, b"+OK %d octets" % len(msgs[1]))
        self.assertEqual(b"\r\n".join(lines) + b"\r\n", msgs[1])
        self.assertTrue(p.quit().startswith(b"+OK"))

    def test_auth_plain(self):
        """RFC 5034 AUTH PLAIN with an initial response, with a
        continuation, "=", "*" and a mechanism we do not have."""
        addr = self.user(1)
        size = len(self.stored(addr)[0])
        pw = self.inst.demo_password
        r = self.raw()
        self.assertEqual(r.multi("AUTH"), (b"+OK Mechanisms follow", [b"PLAIN"]))
        self.assertEqual(r.cmd("AUTH LOGIN"), b"-ERR Unsupported authentication mechanism")
        self.assertEqual(r.cmd("AUTH PLAIN"), b"+ ")
        self.assertEqual(r.cmd("*"), b"-ERR Authentication cancelled")
        self.assertEqual(r.cmd("AUTH PLAIN ="), b"-ERR [AUTH] Invalid SASL PLAIN response")
        self.assertEqual(r.cmd("AUTH PLAIN !!!!"), b"-ERR [AUTH] Invalid SASL PLAIN response")
        self.assertEqual(r.cmd("AUTH PLAIN " + plain_ir(addr, "wrong")),
                         b"-ERR [AUTH] Authentication failed")
        self.assertEqual(r.cmd("AUTH PLAIN"), b"+ ")
        self.assertEqual(r.cmd(plain_ir(addr, pw)),
                         b"+OK Logged in, 1 messages (%d octets)" % size)
        self.assertEqual(r.cmd("STAT"), b"+OK 1 %d" % size)
        r2 = self.raw()
        addr2 = self.user(0)
        self.assertEqual(r2.cmd("AUTH PLAIN " + plain_ir(addr2, pw)),
                         b"+OK Logged in, 0 messages (0 octets)")
        self.assertEqual(r2.multi("LIST"), (b"+OK 0 messages (0 octets)", []))

    def test_failures_same_reply_and_limit(self):
        """A wrong password and an unknown user get the same -ERR [AUTH];
        PASS without USER; ten errors end the session (T20)."""
        addr = self.user()
        r = self.raw()
        self.assertEqual(r.cmd("PASS x"), b"-ERR Send USER first")
        self.assertEqual(r.cmd("USER " + addr), b"+OK Send the password")
        self.assertEqual(r.cmd("PASS wrong password"), b"-ERR [AUTH] Authentication failed")
        self.assertEqual(r.cmd("USER nobody@example.test"), b"+OK Send the password")
        self.assertEqual(r.cmd("PASS wrong password"), b"-ERR [AUTH] Authentication failed")
        # the failure forgets the user: PASS again needs USER again
        self.assertEqual(r.cmd("PASS " + self.inst.demo_password), b"-ERR Send USER first")
        self.assertEqual(r.cmd("APOP " + addr + " c4c9334bac560ecc979e58001b3e22fb"),
                         b"-ERR APOP not supported")
        self.assertEqual(r.cmd("STAT"), b"-ERR Command not valid in the AUTHORIZATION state")
        self.assertEqual(r.cmd("XYZZY"), b"-ERR Unknown command")
        for i in range(3):
            self.assertEqual(r.cmd("NOOP"),
                             b"-ERR Command not valid in the AUTHORIZATION state")
        self.assertEqual(r.cmd("NOOP"), b"-ERR Too many errors")
        self.assertEqual(r.line(), b"")

    def test_stls_pipelined_refused(self):
        """Nothing sent before the handshake may count after it."""
        r = self.raw(kind="pop3")
        r.sock.sendall(b"STLS\r\nUSER x\r\n")
        self.assertEqual(r.line(), b"-ERR Commands pipelined after STLS")
        self.assertEqual(r.line(), b"")

    def test_pipelined_session(self):
        """RFC 2449 PIPELINING: the whole session in one write."""
        addr = self.user(2)
        msgs = self.stored(addr)
        r = self.raw()
        r.sock.sendall(("USER %s\r\nPASS %s\r\nSTAT\r\nLIST\r\nUIDL 2\r\nDELE 1\r\nQUIT\r\n"
                        % (addr, self.inst.demo_password)).encode())
        self.assertEqual(r.line(), b"+OK Send the password")
        self.assertRegex(r.line(), rb"^\+OK Logged in, 2 messages")
        self.assertRegex(r.line(), rb"^\+OK 2 \d+$")
        self.assertRegex(r.line(), rb"^\+OK 2 messages")
        self.assertEqual(r.lines(), [b"1 %d" % len(msgs[0]), b"2 %d" % len(msgs[1])])
        self.assertRegex(r.line(), rb"^\+OK 2 \d+\.\d+$")
        self.assertEqual(r.line(), b"+OK Message 1 deleted")
        self.assertEqual(r.line(),
                         b"+OK sealpost POP3 server signing off (1 messages deleted)")
        self.assertEqual(len(self.imap_inbox(addr)[1]), 1)

    # -- the TRANSACTION state ---------------------------------------------
    def test_every_command(self):
        """Each command of RFC 1939 and its refusals, with exact replies."""
        addr = self.user(3)
        uv, uids, bodies = self.imap_inbox(addr)
        r = self.raw(addr)
        sizes = [len(bodies[u]) for u in uids]
        self.assertEqual(r.login, b"+OK Logged in, 3 messages (%d octets)" % sum(sizes))
        self.assertEqual(r.cmd("STAT"), b"+OK 3 %d" % sum(sizes))
        self.assertEqual(r.multi("LIST"), (b"+OK 3 messages (%d octets)" % sum(sizes),
                                           [b"%d %d" % (i + 1, sizes[i]) for i in range(3)]))
        self.assertEqual(r.cmd("LIST 2"), b"+OK 2 %d" % sizes[1])
        self.assertEqual(r.cmd("LIST 4"), b"-ERR No such message")
        ids = [b"%d.%d" % (uv, u) for u in uids]
        first, lst = r.multi("UIDL")
        self.assertTrue(first.startswith(b"+OK"))
        self.assertEqual(lst, [b"%d %s" % (i + 1, ids[i]) for i in range(3)])
        self.assertEqual(r.cmd("UIDL 3"), b"+OK 3 " + ids[2])
        self.assertEqual(r.cmd("UIDL 9"), b"-ERR No such message")
        first, body = r.multi("RETR 1")
        self.assertEqual(first, b"+OK %d octets" % sizes[0])
        self.assertEqual(b"\r\n".join(body) + b"\r\n", bodies[uids[0]])
        first, top = r.multi("TOP 1 0")
        self.assertEqual(first, b"+OK")
        self.assertEqual(b"\r\n".join(top) + b"\r\n",
                         bodies[uids[0]].split(b"\r\n\r\n")[0] + b"\r\n\r\n")
        first, top = r.multi("TOP 1 1")
        self.assertEqual(top[-2:], [b"", b"line one of 1"])
        first, top = r.multi("TOP 1 100")
        self.assertEqual(b"\r\n".join(top) + b"\r\n", bodies[uids[0]])
        self.assertEqual(r.cmd("TOP 7 1"), b"-ERR No such message")
        self.assertEqual(r.cmd("DELE 2"), b"+OK Message 2 deleted")
        self.assertEqual(r.cmd("DELE 2"), b"-ERR Message 2 already deleted")
        self.assertEqual(r.cmd("DELE 4"), b"-ERR No such message")
        for c in ("RETR 2", "TOP 2 0", "LIST 2", "UIDL 2"):
            self.assertEqual(r.cmd(c), b"-ERR No such message", c)
        self.assertEqual(r.cmd("STAT"), b"+OK 2 %d" % (sizes[0] + sizes[2]))
        self.assertEqual(r.multi("LIST")[1], [b"1 %d" % sizes[0], b"3 %d" % sizes[2]])
        self.assertEqual(r.cmd("NOOP"), b"+OK")
        self.assertEqual(r.cmd("RSET"), b"+OK Maildrop has 3 messages (%d octets)" % sum(sizes))
        self.assertEqual(r.cmd("STAT"), b"+OK 3 %d" % sum(sizes))
        self.assertEqual(r.multi("CAPA"), (b"+OK Capability list follows",
                                           [b"TOP", b"UIDL", b"RESP-CODES", b"AUTH-RESP-CODE",
                                            b"PIPELINING", b"IMPLEMENTATION sealpost"]))
        for c in ("USER x", "PASS x", "AUTH PLAIN", "STLS", "APOP a b"):
            self.assertEqual(r.cmd(c), b"-ERR Command not valid in the TRANSACTION state", c)
        self.assertEqual(r.cmd("FOO"), b"-ERR Unknown command")
        self.assertEqual(r.cmd("DELE 3"), b"+OK Message 3 deleted")
        self.assertEqual(r.cmd("QUIT"),
                         b"+OK sealpost POP3 server signing off (1 messages deleted)")
        self.assertEqual(r.line(), b"")
        uv2, uids2, _ = self.imap_inbox(addr)
        self.assertEqual((uv2, uids2), (uv, uids[:2]))
        # RETR marks \Seen at QUIT, TOP does not
        m = self.inst.imaps(addr)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1:2", "(FLAGS)")
        m.logout()
        self.assertIn(b"\\Seen", data[0])
        self.assertNotIn(b"\\Seen", data[1])

    def test_argument_abuse(self):
        """SECURITY-TESTS T33: -ERR for each, the session goes on."""
        addr = self.user(2)
        size = sum(len(m) for m in self.stored(addr))
        r = self.raw()
        self.assertEqual(r.cmd("USER " + "u" * 10000), b"-ERR Line too long")
        self.assertEqual(r.cmd("USER " + addr), b"+OK Send the password")
        self.assertRegex(r.cmd("PASS " + self.inst.demo_password), rb"^\+OK Logged in")
        for c, want in (("RETR 0", b"-ERR Invalid message number"),
                        ("RETR -1", b"-ERR Invalid message number"),
                        ("RETR 4294967296", b"-ERR Invalid message number"),
                        ("TOP 1 -1", b"-ERR Invalid number of lines"),
                        ("TOP 1 99999999999", b"-ERR Invalid number of lines"),
                        ("LIST 1 2", b"-ERR Invalid arguments"),
                        ("RETR 4294967295", b"-ERR No such message"),
                        ("NOOP " + "x" * 300, b"-ERR Line too long"),
                        ("STAT\0", b"-ERR Invalid character in command")):
            self.assertEqual(r.cmd(c), want, c)
        self.assertEqual(r.cmd("STAT"), b"+OK 2 %d" % size)
        self.assertTrue(r.cmd("QUIT").startswith(b"+OK"))

    def test_dot_stuffing_and_line_ends(self):
        """RFC 1939 3: a line starting with "." goes out with another;
        poplib gets the message back byte for byte."""
        addr = self.user()
        body = b".\r\n..two\r\n.three\r\nend\r\n"
        self.inst.deliver(addr, [message(1, body)])
        r = self.raw(addr)
        first, lines = r.multi("RETR 1")
        self.assertEqual(lines[-4:], [b"..", b"...two", b"..three", b"end"])
        r.cmd("QUIT")
        p = self.inst.pop3s(addr)
        self.assertEqual(b"\r\n".join(p.retr(1)[1]) + b"\r\n", self.stored(addr)[0])
        p.quit()

    # -- crash safety, identity, locking -----------------------------------
    def test_dele_without_quit_deletes_nothing(self):
        """SECURITY-TESTS T31: RETR and DELE of 1-5, then the connection
        drops, or pop3-mail is killed: all 5 are there next time."""
        addr = self.user(6)
        for how in ("drop", "kill"):
            r = Pop3Raw(self.inst, addr)
            for i in range(1, 6):
                r.multi("RETR %d" % i)
                self.assertEqual(r.cmd("DELE %d" % i), b"+OK Message %d deleted" % i)
            if how == "kill":
                pid = int(re.findall(r"proc=pop3-mail pid=(\d+)", self.inst.log())[-1])
                os.kill(pid, signal.SIGKILL)
                self.assertEqual(r.line(), b"")
            r.close()
            wait_for(lambda: "reason=" in self.inst.log().rsplit("pop3-mail event=login", 1)[-1],
                     10, "the session to end")
            p = self.inst.pop3s(addr)
            self.assertEqual(p.stat()[0], 6, how)
            p.quit()

    def test_quit_is_durable_across_a_crash(self):
        """T31: DELE 1-5, QUIT's +OK, then every process killed at once
        (the closest to a power cut here): 0 of the 5 after the restart."""
        inst = Instance("pop3-crash", build=self.build, extra_conf=CONF).start()
        try:
            inst.wait_services_ready()
            addr = "crash@example.test"
            inst.add_user(addr)
            inst.deliver(addr, [message(i) for i in range(1, 8)])
            r = Pop3Raw(inst, addr)
            for i in range(1, 6):
                r.cmd("DELE %d" % i)
            self.assertEqual(r.cmd("QUIT"),
                             b"+OK sealpost POP3 server signing off (5 messages deleted)")
            os.killpg(inst.proc.pid, signal.SIGKILL)
            inst.proc.wait()
            wait_for(lambda: not any(
                p.isdigit() and self._ours(p, inst) for p in os.listdir("/proc")),
                20, "every process of the instance to die")
            inst.stop()
            # a crash leaves the last run's readiness file behind
            os.unlink(os.path.join(inst.dir, "run", "listeners.json"))
            inst.start()
            inst.wait_services_ready()
            p = inst.pop3s(addr)
            resp, lst, _ = p.list()
            self.assertEqual(len(lst), 2)
            self.assertIn(b"Subject: pop3 6\r\n", b"\r\n".join(p.retr(1)[1]))
            p.quit()
        finally:
            inst.stop()
            bad = [l for l in inst.bad_log_lines() if "signal=9" not in l]
            self.assertEqual(bad, [])
            inst.cleanup()

    @staticmethod
    def _ours(pid, inst):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                return inst.dir.encode() in f.read()
        except OSError:
            return False

    def test_uidl_stable(self):
        """T32: the same unique-ids after a restart and IMAP flag changes;
        a message IMAP expunges goes away only in the next POP3 session."""
        inst = Instance("pop3-uidl", build=self.build, extra_conf=CONF).start()
        try:
            inst.wait_services_ready()
            addr = "uidl@example.test"
            inst.add_user(addr)
            inst.deliver(addr, [message(i) for i in range(1, 5)])
            p = inst.pop3s(addr)
            before = p.uidl()[1]
            p.quit()
            inst.stop()
            inst.start()
            inst.wait_services_ready()
            m = inst.imaps(addr)
            m.select("INBOX")
            m.store("1:*", "+FLAGS", "(\\Flagged $Label1)")
            p = inst.pop3s(addr)
            self.assertEqual(p.uidl()[1], before)
            # IMAP expunges message 2 during the POP3 session
            m.store("2", "+FLAGS", "(\\Deleted)")
            m.expunge()
            self.assertEqual(p.uidl()[1], before)
            self.assertEqual(p.stat()[0], 4)
            with self.assertRaises(poplib.error_proto) as e:
                p.retr(2)
            self.assertEqual(str(e.exception),
                             "b'-ERR [SYS/PERM] Message 2 was removed by another session'")
            self.assertEqual(p.retr(3)[1][-2:], [b"line one of 3", b"line two"])
            p.quit()
            p = inst.pop3s(addr)
            self.assertEqual(p.uidl()[1], [b"1 " + before[0].split()[1]] +
                             [b"%d %s" % (i, before[i].split()[1]) for i in (2, 3)])
            p.quit()
            m.logout()
        finally:
            inst.finish()

    def test_maildrop_lock_beside_imap(self):
        """T34: a second POP3 login gets -ERR [IN-USE]; IMAP runs beside
        and sees the expunge; message 1 is removed exactly once."""
        addr = self.user(3)
        m = self.inst.imaps(addr)
        self.addCleanup(m.logout)
        m.select("INBOX")
        first = self.raw(addr)
        self.assertRegex(first.login, rb"^\+OK Logged in, 3 messages")
        second = self.raw(addr)
        self.assertEqual(second.login,
                         b"-ERR [IN-USE] Maildrop already locked by another POP3 session")
        self.assertEqual(second.line(), b"")
        self.assertEqual(first.cmd("DELE 1"), b"+OK Message 1 deleted")
        self.assertEqual(first.cmd("QUIT"),
                         b"+OK sealpost POP3 server signing off (1 messages deleted)")
        typ, data = m.noop()
        self.assertEqual(m.untagged_responses.get("EXPUNGE"), [b"1"])
        third = self.raw(addr)
        self.assertRegex(third.login, rb"^\+OK Logged in, 2 messages")
        self.assertEqual(third.cmd("DELE 1"), b"+OK Message 1 deleted")
        third.cmd("QUIT")
        uv, uids, bodies = self.imap_inbox(addr)
        self.assertEqual([b.split(b"Subject: ")[1].split(b"\r\n")[0] for b in
                          (bodies[u] for u in uids)], [b"pop3 3"])

    def test_quota_given_back(self):
        """What QUIT expunges goes back to the account's quota (RFC 9208
        usage as IMAP reports it)."""
        Pop3Base._n += 1
        addr = "quota%d@example.test" % Pop3Base._n
        self.inst.add_user(addr, "1M")
        self.inst.deliver(addr, [message(i, (b"x" * 78 + b"\r\n") * 250) for i in range(1, 4)])

        def used():
            m = self.inst.imaps(addr)
            typ, data = m._simple_command("GETQUOTA", '""')
            _, q = m._untagged_response(typ, data, "QUOTA")
            m.logout()
            return int(re.search(rb"STORAGE (\d+)", q[0]).group(1))
        full = used()
        self.assertGreater(full, 50)
        r = self.raw(addr)
        r.cmd("DELE 1")
        r.cmd("DELE 2")
        r.cmd("QUIT")
        self.assertLess(used(), full - 30)

    def test_pop3_mail_sandboxed(self):
        """pop3-mail runs as the account's uid with its seccomp profile."""
        addr = self.user(1)
        r = self.raw(addr)
        self.assertRegex(r.login, rb"^\+OK")
        self.assertIn("seccomp=on", self.inst.status()["session_sandbox"]["pop3-mail"])
        r.cmd("QUIT")


class Pop3(Pop3Base, unittest.TestCase):
    pass


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class Pop3Plain(Pop3Base, unittest.TestCase):
    """The same without sanitizers: what runs in production."""
    build = PLAIN


class Pop3Timeouts(unittest.TestCase):
    """Every timeout, made 1 s by test-imap-timeouts (a test-hooks key;
    the real ones are a minute before login and ten after, RFC 1939 3)."""

    def test_timeouts(self):
        with Instance("pop3-to", extra_conf=CONF + ["test-imap-timeouts 1000"]) as inst:
            inst.wait_services_ready()
            addr = inst.add_user("to@example.test")
            inst.deliver(addr, [message(1)])
            r = Pop3Raw(inst)
            self.assertEqual(r.line(), b"-ERR Autologout; idle for too long")
            r.close()
            # a line that trickles is not a way around it
            r = Pop3Raw(inst)
            t0 = time.monotonic()
            for ch in b"CAPA":
                r.sock.sendall(bytes([ch]))
                time.sleep(0.4)
            self.assertEqual(r.line(), b"-ERR Autologout; idle for too long")
            self.assertLess(time.monotonic() - t0, 5)
            r.close()
            r = Pop3Raw(inst, addr)
            self.assertEqual(r.cmd("DELE 1"), b"+OK Message 1 deleted")
            self.assertEqual(r.line(), b"-ERR Autologout; idle for too long")
            r.close()
            p = inst.pop3s(addr)
            self.assertEqual(p.stat()[0], 1)       # not deleted (RFC 1939 3)
            p.quit()


if __name__ == "__main__":
    unittest.main()
