"""IMAP in the account's mail process (issue 6, first commands): LIST,
LSUB, STATUS, NAMESPACE, SELECT, EXAMINE, FETCH of FLAGS, UID,
INTERNALDATE and RFC822.SIZE by message number and UID, CLOSE and
UNSELECT, through imaplib over implicit TLS, on mail delivered over SMTP;
the command reader's literals (synchronizing and LITERAL+) and limits
after login."""

import imaplib
import os
import re
import smtplib
import socket
import subprocess
import time
import unittest

from sealpost_test import BUILD, Instance, connect, read_line

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
MSG = (b"From: a@other.test\r\nTo: someone@example.test\r\n"
       b"Date: Thu, 26 Nov 2026 12:00:00 +0000\r\nSubject: hello %d\r\n\r\nbody\r\n")


class ImapBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("imap", build=cls.build,
                            extra_conf=["instance-type test", "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.pw = open(os.path.join(cls.inst.dir, "demo-password")).read().strip()
        cls.sizes = []
        with smtplib.SMTP("127.0.0.1", cls.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            for i in range(3):
                s.sendmail("a@other.test", ["demo@example.test"], MSG % i)

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        # the kill -9 test's own kill is not a finding
        bad = [l for l in cls.inst.bad_log_lines() if "signal=9" not in l]
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    def login(self, user="demo@example.test"):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                              ssl_context=self.inst.tls_context(), timeout=30)
        m.login(user, self.pw)
        return m

    def test_list_status_namespace(self):
        m = self.login()
        typ, data = m.list()
        self.assertEqual(typ, "OK")
        names = sorted(d.decode() for d in data)
        self.assertIn('(\\HasNoChildren) "/" "INBOX"', names)
        self.assertIn('(\\HasNoChildren \\Sent) "/" "Sent"', names)
        self.assertIn('(\\HasNoChildren \\Trash) "/" "Trash"', names)
        self.assertEqual(len(names), 6)
        typ, data = m.list('""', "S%")
        self.assertEqual([d.decode() for d in data], ['(\\HasNoChildren \\Sent) "/" "Sent"'])
        typ, data = m.list('""', "I*N*B*O*X")
        self.assertEqual(data, [b'(\\HasNoChildren) "/" "INBOX"'])
        # a pattern that makes a backtracking matcher take forever
        typ, data = m.list('""', "*a" * 100 + "*b")
        self.assertEqual((typ, data), ("OK", [None]))
        typ, data = m.list('""', '""')
        self.assertEqual(data, [b'(\\Noselect) "/" ""'])
        typ, data = m.status("inbox", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT)")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), r'^"INBOX" \(MESSAGES 3 UIDNEXT 4 UIDVALIDITY \d+ '
                         r'UNSEEN 3 RECENT 0\)$')
        typ, data = m.status("Nope", "(MESSAGES)")
        self.assertEqual(typ, "NO")
        typ, data = m.namespace()
        self.assertEqual(data, [b'(("" "/")) NIL NIL'])
        typ, data = m._simple_command("ENABLE", "CONDSTORE", "X-UNKNOWN")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("ENABLED"), [b"CONDSTORE"])
        typ, data = m.xatom("ID", '("name" "imaplib")')
        self.assertEqual(m.untagged_responses.pop("ID"), [b'("name" "sealpost")'])
        m.logout()

    def test_select_fetch_close(self):
        m = self.login()
        typ, data = m.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"3"]))
        self.assertEqual(m.untagged_responses.get("UIDNEXT"), [b"4"])
        typ, data = m.fetch("1:*", "(UID FLAGS RFC822.SIZE INTERNALDATE)")
        self.assertEqual(typ, "OK")
        self.assertEqual(len(data), 3)
        for i, d in enumerate(data):
            self.assertRegex(d.decode(), r'^%d \(UID %d FLAGS \(\) INTERNALDATE '
                             r'"\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d \+0000" RFC822\.SIZE \d+\)$'
                             % (i + 1, i + 1))
        typ, data = m.uid("FETCH", "2:*", "FLAGS")
        self.assertEqual([d.decode() for d in data],
                         ["2 (UID 2 FLAGS ())", "3 (UID 3 FLAGS ())"])
        typ, data = m.uid("FETCH", "99", "FLAGS")         # no such UID: nothing
        self.assertEqual((typ, data), ("OK", [None]))
        with self.assertRaises(imaplib.IMAP4.error):
            m.fetch("4", "FLAGS")                        # no message 4: BAD
        typ, data = m.fetch("1", "BODYSTRUCTURE")
        self.assertRegex(data[0], rb'^1 \(BODYSTRUCTURE \("TEXT" "PLAIN" ')
        typ, _ = m.close()
        self.assertEqual(typ, "OK")
        typ, data = m.select("Archive", readonly=True)
        self.assertEqual((typ, data), ("OK", [b"0"]))
        typ, data = m._simple_command("UNSELECT")
        self.assertEqual(typ, "OK")
        with self.assertRaises(imaplib.IMAP4.error):
            m.fetch("1", "FLAGS")                        # nothing selected
        typ, data = m.select("NoSuchBox")
        self.assertEqual(typ, "NO")
        m.logout()

    def test_store_expunge(self):
        """STORE +/-FLAGS(.SILENT), the answers it owes; a second
        connection sees the flags; EXAMINE refuses STORE; EXPUNGE and UID
        EXPUNGE (RFC 4315) with their untagged EXPUNGE lines."""
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            for i in range(3):
                s.sendmail("a@other.test", ["demo@example.test"], MSG % (10 + i))
        m = self.login()
        typ, data = m.select("INBOX")
        n = int(data[0])
        self.assertGreaterEqual(n, 3)
        typ, data = m.store("1", "+FLAGS", "(\\Seen \\Flagged)")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [b"1 (FLAGS (\\Seen \\Flagged))"])
        typ, data = m.store("%d" % n, "+FLAGS.SILENT", "\\Deleted")
        self.assertEqual((typ, data), ("OK", [None]))
        typ, data = m.store("1", "-FLAGS", "(\\Flagged)")
        self.assertEqual(data, [b"1 (FLAGS (\\Seen))"])
        # \Recent cannot be set (ignored); other "\" flags are BAD;
        # keywords are kept (test_keywords)
        typ, data = m.store("1", "+FLAGS", "(\\Recent)")
        self.assertEqual(data, [b"1 (FLAGS (\Seen))"])
        for bad in ("(\\Bogus)", "(a[b)", "(\"quoted\")", "(x*)"):
            with self.assertRaises(imaplib.IMAP4.error, msg=bad):
                m.store("1", "+FLAGS", bad)
        # another connection sees it
        m2 = self.login()
        m2.select("INBOX", readonly=True)
        typ, data = m2.fetch("1,%d" % n, "FLAGS")
        self.assertEqual([d.decode() for d in data],
                         ["1 (FLAGS (\\Seen))", "%d (FLAGS (\\Deleted))" % n])
        typ, data = m2.store("1", "+FLAGS", "\\Draft")
        self.assertEqual(typ, "NO")
        m2.logout()
        typ, data = m.expunge()
        self.assertEqual((typ, data), ("OK", [b"%d" % n]))
        typ, data = m.select("INBOX")
        self.assertEqual(int(data[0]), n - 1)
        # UID EXPUNGE removes only the named \Deleted ones
        typ, data = m.uid("FETCH", "1:*", "UID")
        uids = [int(re.search(rb"UID (\d+)", d).group(1)) for d in data]
        m.uid("STORE", "%d,%d" % (uids[0], uids[1]), "+FLAGS.SILENT", "(\\Deleted)")
        m.untagged_responses.pop("EXPUNGE", None)
        typ, data = m.uid("EXPUNGE", "%d" % uids[1])
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("EXPUNGE"), [b"2"])
        typ, data = m.select("INBOX")
        self.assertEqual(int(data[0]), n - 2)
        typ, data = m.fetch("1", "(UID FLAGS)")
        self.assertEqual(data, [b"1 (UID %d FLAGS (\\Seen \\Deleted))" % uids[0]])
        m.logout()

    def test_fetch_body(self):
        """BODY[] and BODY.PEEK[] of the whole message, of HEADER and
        HEADER.FIELDS; BODY[] (not PEEK) sets \\Seen; EXAMINE never does."""
        # its own account: the other tests count INBOX
        self.inst.add_user("body@example.test")
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            s.sendmail("a@other.test", ["body@example.test"], MSG % 99)
        m = self.login("body@example.test")
        typ, data = m.select("INBOX")
        n = int(data[0])
        typ, data = m.fetch("%d" % n, "(BODY.PEEK[])")
        body = data[0][1]
        self.assertTrue(body.startswith(b"Received: from client.test"))
        self.assertTrue(body.endswith(MSG % 99))
        self.assertIn(b"for <body@example.test>", body)
        typ, data = m.fetch("%d" % n, "(FLAGS)")
        self.assertEqual(data, [b"%d (FLAGS (\\Recent))" % n])     # PEEK: unseen
        typ, data = m.fetch("%d" % n, "(BODY.PEEK[HEADER.FIELDS (SUBJECT from)])")
        self.assertEqual(data[0][0], b"%d (BODY[HEADER.FIELDS (SUBJECT FROM)] {41}" % n)
        self.assertEqual(data[0][1], b"From: a@other.test\r\nSubject: hello 99\r\n\r\n")
        typ, data = m.fetch("%d" % n, "(BODY.PEEK[HEADER])")
        self.assertTrue(data[0][1].endswith(b"Subject: hello 99\r\n\r\n"))
        m2 = self.login("body@example.test")
        m2.select("INBOX", readonly=True)
        typ, data = m2.fetch("%d" % n, "(BODY[])")
        self.assertEqual(data[0][1], body)
        m2.logout()
        typ, data = m.fetch("%d" % n, "(FLAGS)")
        self.assertEqual(data, [b"%d (FLAGS (\\Recent))" % n])     # EXAMINE: still
        typ, data = m.fetch("%d" % n, "(BODY[])")
        self.assertIn(b"FLAGS (\\Seen \\Recent)", data[0][0])
        self.assertEqual(data[0][1], body)
        typ, data = m.fetch("%d" % n, "(BODY.PEEK[1.2])")            # no such part
        self.assertEqual(data, [b"%d (BODY[1.2] NIL)" % n])
        m.logout()

    def test_copy_move(self):
        """COPY and MOVE with COPYUID (UIDPLUS, RFC 6851), TRYCREATE for a
        missing folder, and the moved message gone from the source."""
        self.inst.add_user("mover@example.test")
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            for i in range(3):
                s.sendmail("a@other.test", ["mover@example.test"], MSG % (50 + i))
        m = self.login("mover@example.test")
        m.select("INBOX")
        typ, data = m.fetch("1:2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        copied = [d[1] for d in data if isinstance(d, tuple)]
        typ, data = m.copy("1:2", "Archive")
        self.assertEqual(typ, "OK")
        self.assertRegex(data[0].decode(), r"^\[COPYUID \d+ 1:2 1:2\] COPY completed$")
        typ, data = m.copy("1", "Nowhere")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[TRYCREATE]", data[0])
        typ, data = m._simple_command("MOVE", "3", "Trash")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("EXPUNGE"), [b"3"])
        typ, data = m.uid("MOVE", "1", "Trash")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("EXPUNGE"), [b"1"])
        self.assertEqual(m.select("INBOX"), ("OK", [b"1"]))
        self.assertEqual(m.select("Trash"), ("OK", [b"2"]))
        self.assertEqual(m.select("Archive"), ("OK", [b"2"]))
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual([d[1] for d in data if isinstance(d, tuple)], copied)
        m.logout()

    def test_append(self):
        """APPEND with flags and a date, APPENDUID (RFC 4315), read back
        byte-identical; into the selected mailbox (EXISTS); a 3 MB message
        (past the 1 MiB other commands may have); TRYCREATE."""
        self.inst.add_user("app@example.test")
        m = self.login("app@example.test")
        draft = MSG % 7 + b"\x01binary-ish \xff\r\n"
        typ, data = m.append("Drafts", "(\\Draft \\Seen)",
                             '"05-Nov-2026 10:20:30 +0200"', draft)
        self.assertEqual(typ, "OK")
        m_uid = re.match(rb"\[APPENDUID (\d+) (\d+)\] APPEND completed", data[0])
        self.assertIsNotNone(m_uid, data)
        m.select("Drafts")
        typ, data = m.fetch("1", "(FLAGS INTERNALDATE BODY.PEEK[])")
        self.assertEqual(data[0][1], draft)
        self.assertIn(b'INTERNALDATE "05-Nov-2026 08:20:30 +0000"', data[0][0])
        # \Recent: this session is the first to see it (RFC 3501 2.3.2)
        self.assertIn(b"FLAGS (\\Seen \\Draft \\Recent)", data[0][0])
        big = MSG % 8 + (b"z" * 998 + b"\r\n") * 3000
        m.select("INBOX")
        typ, data = m.append("INBOX", None, None, big)
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("EXISTS")[-1], b"1")
        typ, data = m.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(data[0][1], big)
        typ, data = m.append("Nowhere", None, None, draft)
        self.assertEqual(typ, "NO")
        self.assertIn(b"[TRYCREATE]", data[0])
        m.logout()

    def test_idle_and_other_connections(self):
        """Two connections on one mailbox see each other's flags and
        expunges (NOOP); IDLE is woken by an SMTP delivery and by the
        other connection's change (asserted with a generous timeout)."""
        self.inst.add_user("idle@example.test")
        def deliver(i):
            with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
                s.ehlo("client.test")
                s.sendmail("a@other.test", ["idle@example.test"], MSG % i)
        deliver(60)
        deliver(61)
        a = self.login("idle@example.test")
        self.assertEqual(a.select("INBOX"), ("OK", [b"2"]))
        b = self.login("idle@example.test")
        self.assertEqual(b.select("INBOX"), ("OK", [b"2"]))
        b.store("1", "+FLAGS.SILENT", "(\\Flagged \\Deleted)")
        b.expunge()
        typ, _ = a.check()
        self.assertEqual(a.untagged_responses.pop("EXPUNGE"), [b"1"])
        # IDLE, raw: woken by a delivery, then by b's flag change
        c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        c.settimeout(60)
        read_line(c)
        c.sendall(b'a LOGIN idle@example.test "%s"\r\nb SELECT INBOX\r\n' % self.pw.encode())
        self.assertRegex(self.until(c, b"b "), rb"^b OK ")
        c.sendall(b"i IDLE\r\n")
        self.assertEqual(read_line(c), b"+ idling")
        deliver(62)
        self.assertEqual(read_line(c), b"* 2 EXISTS")
        self.assertEqual(read_line(c), b"* 1 RECENT")      # a claimed the first
        b.noop()
        b.store("1", "+FLAGS.SILENT", "(\\Seen)")
        self.assertEqual(read_line(c), b"* 1 FETCH (FLAGS (\\Seen))")
        c.sendall(b"DONE\r\n")
        self.assertEqual(read_line(c), b"i OK IDLE terminated")
        c.close()
        a.logout()
        b.logout()

    @staticmethod
    def lines(c, tag):
        """The untagged lines before the tagged one, and the tagged one."""
        got = []
        for _ in range(200):
            line = read_line(c)
            if line.startswith(tag + b" ") or line == b"":
                return got, line
            got.append(line)
        return got, b""

    def test_news_with_every_command(self):
        """Other connections' changes reach a client with whatever command
        it sends next, just before the tagged reply: EXISTS and FETCH
        FLAGS always, EXPUNGE not while answering FETCH or STORE (RFC
        3501 7.4.1) but with their UID forms and any other command; the
        client's own STORE .SILENT is not echoed, its COPY into the
        selected mailbox is announced."""
        self.inst.add_user("news@example.test")
        def deliver(i):
            with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
                s.ehlo("client.test")
                s.sendmail("a@other.test", ["news@example.test"], MSG % i)
        for i in range(3):
            deliver(70 + i)
        c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        c.settimeout(30)
        read_line(c)
        c.sendall(b'a LOGIN news@example.test "%s"\r\nb SELECT INBOX\r\n' % self.pw.encode())
        got, done = self.lines(c, b"b")
        self.assertIn(b"* 3 EXISTS", got)
        c.sendall(b"u UID FETCH 1:* (UID)\r\n")
        got, done = self.lines(c, b"u")
        uids = [int(re.search(rb"UID (\d+)", l).group(1)) for l in got]
        self.assertEqual(len(uids), 3)
        o = self.login("news@example.test")
        self.assertEqual(o.select("INBOX"), ("OK", [b"3"]))
        o.store("1", "+FLAGS.SILENT", "(\\Flagged)")
        o.store("2", "+FLAGS.SILENT", "(\\Deleted)")
        o.expunge()
        deliver(73)
        o.noop()                        # imports the delivery
        # FETCH: the flag and the new message, not the expunge
        c.sendall(b"f FETCH 1 (UID)\r\n")
        got, done = self.lines(c, b"f")
        self.assertRegex(done, rb"^f OK ")
        self.assertIn(b"* 1 FETCH (UID %d)" % uids[0], got)
        # c selected first: the three are its \Recent; o claimed the 4th
        self.assertIn(b"* 1 FETCH (FLAGS (\\Flagged \\Recent))", got)
        self.assertIn(b"* 4 EXISTS", got)
        self.assertIn(b"* 3 RECENT", got)
        self.assertFalse([l for l in got if l.endswith(b"EXPUNGE")], got)
        # the expunged one, by its old number: gone (RFC 2180 4.1.2)
        c.sendall(b"g FETCH 2 (FLAGS)\r\n")
        got, done = self.lines(c, b"g")
        self.assertEqual((got, done), ([], b"g NO [EXPUNGEISSUED] Some of the "
                                          b"requested messages no longer exist"))
        # STORE .SILENT of our own: no echo, still no expunge
        c.sendall(b"s STORE 3 +FLAGS.SILENT (\\Seen)\r\n")
        got, done = self.lines(c, b"s")
        self.assertRegex(done, rb"^s OK ")
        self.assertEqual(got, [])
        # any other command: the expunge, once
        c.sendall(b'l LIST "" INBOX\r\n')
        got, done = self.lines(c, b"l")
        self.assertEqual([l for l in got if not l.startswith(b"* LIST")],
                         [b"* 2 EXPUNGE"])
        c.sendall(b"n NOOP\r\n")
        self.assertEqual(self.lines(c, b"n"), ([], b"n OK NOOP completed"))
        # the UID form of FETCH may carry an EXPUNGE
        o.store("1", "+FLAGS.SILENT", "(\\Deleted)")
        o.expunge()
        c.sendall(b"v UID FETCH %d (FLAGS)\r\n" % uids[2])
        got, done = self.lines(c, b"v")
        # answered with the numbers the client knew, then renumbered
        self.assertEqual(got, [b"* 2 FETCH (UID %d FLAGS (\\Seen \\Recent))" % uids[2],
                               b"* 1 EXPUNGE"])
        # our COPY into the selected mailbox: EXISTS with the reply
        c.sendall(b"k COPY 1 INBOX\r\n")
        got, done = self.lines(c, b"k")
        self.assertRegex(done, rb"^k OK \[COPYUID ")
        self.assertIn(b"* 3 EXISTS", got)
        c.sendall(b"z LOGOUT\r\n")
        c.close()
        o.logout()

    def test_issue_acceptance_swaks_flag_move_delete(self):
        """Issue 6's "done when": a message sent with swaks appears in
        INBOX over IMAP, is flagged, moved to Archive and deleted, and a
        second connection sees each change."""
        self.inst.add_user("swaks@example.test")
        a = self.login("swaks@example.test")
        b = self.login("swaks@example.test")
        self.assertEqual(a.select("INBOX"), ("OK", [b"0"]))
        self.assertEqual(b.select("INBOX"), ("OK", [b"0"]))
        r = subprocess.run(["swaks", "--to", "swaks@example.test", "--from", "s@other.test",
                            "--server", "127.0.0.1:%d" % self.inst.port("smtp"),
                            "--helo", "client.test", "--tls", "--tls-ca-path", self.inst.cafile,
                            "--h-Subject", "sent with swaks"],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for conn in (a, b):                     # both see it arrive
            for _ in range(50):
                conn.noop()
                if conn.untagged_responses.get("EXISTS", [b"0"])[-1] == b"1":
                    break
                time.sleep(0.1)
            self.assertEqual(conn.untagged_responses.pop("EXISTS")[-1], b"1")
        typ, data = a.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(data[0][1], b"Subject: sent with swaks\r\n\r\n")
        a.store("1", "+FLAGS", "(\\Flagged)")
        b.noop()
        self.assertEqual(b.untagged_responses.pop("FETCH"), [b"1 (FLAGS (\\Flagged))"])
        typ, data = a.uid("MOVE", "1", "Archive")
        self.assertEqual(typ, "OK")
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXPUNGE"), [b"1"])
        self.assertEqual(b.select("Archive"), ("OK", [b"1"]))
        typ, data = b.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn(b"FLAGS (\\Flagged \\Recent)", data[0][0])
        self.assertEqual(a.select("Archive"), ("OK", [b"1"]))
        a.store("1", "+FLAGS", "(\\Deleted)")
        a.expunge()
        b.noop()
        self.assertEqual(b.untagged_responses.pop("EXPUNGE"), [b"1"])
        self.assertEqual(b.status("Archive", "(MESSAGES)")[1],
                         [b'"Archive" (MESSAGES 0)'])
        self.assertEqual(b.status("INBOX", "(MESSAGES)")[1], [b'"INBOX" (MESSAGES 0)'])
        a.logout()
        b.logout()

    def test_hostile_commands_after_login(self):
        """SECURITY-TESTS T25, T27, T29 after login: NUL in a quoted
        string, numbers outside 1..4294967295, a long repeated UID set, a
        10 MiB line, IDLE ended by garbage, an APPEND cut off by closing
        the socket (no partial message); the session goes on after each
        refusal."""
        c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        c.settimeout(30)
        read_line(c)
        c.sendall(b'a LOGIN demo@example.test "%s"\r\nb SELECT INBOX\r\n' % self.pw.encode())
        self.assertRegex(self.until(c, b"b "), rb"^b OK ")
        for cmd, want in ((b'c SELECT "INBOX\x00x"', b"c BAD NUL byte in command"),
                          (b"d FETCH 0 FLAGS", b"d BAD "),
                          (b"e FETCH 4294967296 FLAGS", b"e BAD "),
                          (b"f UID FETCH 4294967296 FLAGS", b"f BAD "),
                          (b'g SELECT "INBOX\\"', b"g BAD ")):
            c.sendall(cmd + b"\r\n")
            self.assertTrue(self.until(c, cmd[:2]).startswith(want), cmd)
        c.sendall(b"h UID FETCH " + b"1:*," * 2000 + b"1 (UID)\r\n")
        self.assertRegex(self.until(c, b"h "), rb"^h OK ")
        c.sendall(b"x" * (10 << 20))                        # 10 MiB, no line end yet
        c.sendall(b"\r\ni NOOP\r\n")
        self.assertEqual(read_line(c), b"* BAD Line too long")
        self.assertEqual(self.until(c, b"i "), b"i OK NOOP completed")
        c.sendall(b"j IDLE\r\n")
        self.assertEqual(read_line(c), b"+ idling")
        c.sendall(b"garbage\r\nk NOOP\r\n")
        self.assertEqual(read_line(c), b"j BAD Expected DONE")
        self.assertEqual(self.until(c, b"k "), b"k OK NOOP completed")
        c.sendall(b"l STATUS INBOX (MESSAGES)\r\n")
        before = re.search(rb"MESSAGES (\d+)", read_line(c)).group(1)
        self.until(c, b"l ")
        c.sendall(b"m APPEND INBOX {100+}\r\n" + b"From: a@b.test\r\n\r\nhalf")
        c.close()
        m = self.login()
        self.assertEqual(m.status("INBOX", "(MESSAGES)")[1],
                         [b'"INBOX" (MESSAGES %s)' % before])
        m.logout()

    def test_uids_follow_delivery_order(self):
        """UIDs ascend in the order the SMTP 250s were given, even for
        deliveries within one file-system clock tick (deliver sets a
        precise mtime; the import orders new/ by it): 100 deliveries."""
        self.inst.add_user("order@example.test")
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=60) as s:
            s.ehlo("client.test")
            for i in range(100):
                s.sendmail("a@other.test", ["order@example.test"], MSG % (1000 + i))
        m = self.login("order@example.test")
        self.assertEqual(m.select("INBOX"), ("OK", [b"100"]))
        typ, data = m.fetch("1:*", "(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        got = [int(re.search(rb"hello (\d+)", d[1]).group(1)) for d in data
               if isinstance(d, tuple)]
        m.logout()
        self.assertEqual(got, list(range(1000, 1100)))

    def test_keywords(self):
        """Keywords (RFC 3501 2.3.2, 7.1; issue 8): STORE creates them and
        PERMANENTFLAGS says so ("\\*"); FLAGS lists the account's; FETCH,
        the other connection's news, SEARCH KEYWORD, APPEND and COPY carry
        them; -FLAGS removes; a 65th keyword is NO [LIMIT]."""
        self.inst.add_user("kw@example.test")
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            for i in range(2):
                s.sendmail("a@other.test", ["kw@example.test"], MSG % (90 + i))
        a = self.login("kw@example.test")
        typ, _ = a.select("INBOX")
        self.assertIn(b"\\*", [r for r in a.untagged_responses.get("OK", [])
                                if r.startswith(b"[PERMANENTFLAGS")][0])
        b = self.login("kw@example.test")
        b.select("INBOX")
        # a selected first: \Recent is a's, never b's (RFC 3501 2.3.2)
        typ, data = a.store("1", "+FLAGS", "($Forwarded Junk)")
        self.assertEqual(data, [b"1 (FLAGS (\\Recent $Forwarded Junk))"])
        b.noop()
        self.assertEqual(b.untagged_responses.pop("FETCH"), [b"1 (FLAGS ($Forwarded Junk))"])
        typ, data = a.fetch("1:2", "FLAGS")
        self.assertEqual(data, [b"1 (FLAGS (\\Recent $Forwarded Junk))",
                                b"2 (FLAGS (\\Recent))"])
        self.assertEqual(a.search(None, "KEYWORD", "junk"), ("OK", [b"1"]))
        self.assertEqual(a.search(None, "UNKEYWORD", "Junk"), ("OK", [b"2"]))
        self.assertEqual(a.search(None, "KEYWORD", "NeverSeen"), ("OK", [b""]))
        typ, data = a.store("1", "-FLAGS", "(junk)")
        self.assertEqual(data, [b"1 (FLAGS (\\Recent $Forwarded))"])
        # a new SELECT lists the account's keywords
        c = self.login("kw@example.test")
        c.select("INBOX")
        flags = c.untagged_responses["FLAGS"][0]
        self.assertIn(b"$Forwarded", flags)
        self.assertIn(b"Junk", flags)
        typ, data = c.select("INBOX", readonly=True)
        perm = [r for r in c.untagged_responses.get("OK", []) if r.startswith(b"[PERMANENTFLAGS")]
        self.assertEqual(perm[-1], b"[PERMANENTFLAGS ()] Flags permitted")
        c.logout()
        # APPEND and COPY keep them
        typ, data = a.append("Archive", "($Label1 \\Flagged)", None, MSG % 93)
        self.assertEqual(typ, "OK")
        a.copy("1", "Archive")
        a.select("Archive")
        typ, data = a.fetch("1:*", "FLAGS")
        self.assertEqual(sorted(data), [b"1 (FLAGS (\\Flagged \\Recent $Label1))",
                                        b"2 (FLAGS (\\Recent $Forwarded))"])
        # the account's limit (INDEX_KEYWORD_MAX, 64): NO [LIMIT] past it
        for i in range(70):
            typ, data = a.store("1", "+FLAGS.SILENT", "(kw%d)" % i)
            if typ != "OK":
                break
        self.assertEqual((typ, i), ("NO", 61))       # 3 before, 64 in all
        self.assertIn(b"[LIMIT]", data[0])
        a.logout()
        b.logout()

    def test_recent(self):
        """\\Recent (RFC 3501 2.3.2, 6.3.1, 6.3.2, 6.4.4): the first session
        to select a mailbox after a message came has it, no other does;
        RECENT, NEW and OLD search by it; EXAMINE shows what nobody has
        claimed and claims nothing; STATUS RECENT counts what a SELECT
        would claim; a client cannot set it."""
        self.inst.add_user("recent@example.test")
        def deliver(i):
            with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
                s.ehlo("client.test")
                s.sendmail("a@other.test", ["recent@example.test"], MSG % i)
        deliver(120)
        deliver(121)
        a = self.login("recent@example.test")
        self.assertEqual(a.status("INBOX", "(RECENT MESSAGES)"),
                         ("OK", [b'"INBOX" (RECENT 2 MESSAGES 2)']))
        a.select("INBOX")
        self.assertEqual(a.untagged_responses["RECENT"], [b"2"])
        self.assertEqual(a.fetch("1:*", "FLAGS")[1],
                         [b"1 (FLAGS (\\Recent))", b"2 (FLAGS (\\Recent))"])
        a.store("1", "+FLAGS.SILENT", "(\\Seen)")
        self.assertEqual(a.search(None, "RECENT"), ("OK", [b"1 2"]))
        self.assertEqual(a.search(None, "NEW"), ("OK", [b"2"]))
        self.assertEqual(a.search(None, "OLD"), ("OK", [b""]))
        b = self.login("recent@example.test")
        self.assertEqual(b.status("INBOX", "(RECENT)"), ("OK", [b'"INBOX" (RECENT 0)']))
        b.select("INBOX")
        self.assertEqual(b.untagged_responses["RECENT"], [b"0"])
        self.assertEqual(b.search(None, "RECENT"), ("OK", [b""]))
        self.assertEqual(b.search(None, "OLD"), ("OK", [b"1 2"]))
        # a client cannot give itself \Recent
        typ, data = b.store("2", "+FLAGS", "(\\Recent \\Flagged)")
        self.assertEqual(data, [b"2 (FLAGS (\\Flagged))"])
        # a new message: EXAMINE shows it and leaves it to a SELECT
        deliver(122)
        c = self.login("recent@example.test")
        self.assertEqual(c.status("INBOX", "(RECENT)"), ("OK", [b'"INBOX" (RECENT 1)']))
        c.select("INBOX", readonly=True)
        self.assertEqual(c.untagged_responses["RECENT"], [b"1"])
        self.assertEqual(c.fetch("3", "FLAGS")[1], [b"3 (FLAGS (\\Recent))"])
        self.assertEqual(c.status("INBOX", "(RECENT)"), ("OK", [b'"INBOX" (RECENT 1)']))
        # a is selected: its next command claims it, with EXISTS
        a.noop()
        self.assertEqual(a.untagged_responses["EXISTS"][-1], b"3")
        self.assertEqual(a.untagged_responses["RECENT"][-1], b"3")
        b.noop()
        self.assertEqual(b.untagged_responses["RECENT"][-1], b"0")
        self.assertEqual(c.status("INBOX", "(RECENT)"), ("OK", [b'"INBOX" (RECENT 0)']))
        for m in (a, b, c):
            m.logout()
        # claimed for good: a later session has none
        d = self.login("recent@example.test")
        d.select("INBOX")
        self.assertEqual(d.untagged_responses["RECENT"], [b"0"])
        d.logout()

    def test_curl(self):
        """curl, a real IMAP client: lists INBOX, fetches a message by UID
        and flags it through STORE over implicit TLS."""
        self.inst.add_user("curl@example.test")
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            s.sendmail("a@other.test", ["curl@example.test"], MSG % 70)
        base = "imaps://127.0.0.1:%d/" % self.inst.port("imaps")
        common = ["curl", "-sS", "--max-time", "30", "--cacert", self.inst.cafile,
                  "-u", "curl@example.test:" + self.pw]
        r = subprocess.run(common + [base], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b'"/" "INBOX"', r.stdout)
        r = subprocess.run(common + [base + "INBOX;UID=1"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.endswith(MSG % 70), r.stdout[-100:])
        r = subprocess.run(common + [base + "INBOX", "-X", "UID STORE 1 +FLAGS (\\Flagged)"],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"FLAGS (\\Seen \\Flagged)", r.stdout)

    def test_kill_9_mail_process_mid_command(self):
        """kill -9 of the mail process while it streams a FETCH: the client
        sees the connection end; nothing of the mailbox is lost and the
        next login serves it."""
        self.inst.add_user("kill@example.test")
        big = MSG % 80 + (b"k" * 998 + b"\r\n") * 20000     # 20 MB
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=60) as s:
            s.ehlo("client.test")
            s.sendmail("a@other.test", ["kill@example.test"], big)
        c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        c.settimeout(30)
        read_line(c)
        c.sendall(b'a LOGIN kill@example.test "%s"\r\nb SELECT INBOX\r\n' % self.pw.encode())
        self.assertRegex(self.until(c, b"b "), rb"^b OK ")
        pid = int(re.findall(r"event=login account=\d+ uid=\d+ proc=imap-mail pid=(\d+)",
                             self.inst.log())[-1])
        c.sendall(b"c FETCH 1 BODY.PEEK[]\r\n")
        self.assertTrue(read_line(c).startswith(b"* 1 FETCH (BODY[] {"))
        c.recv(65536)                                   # mid-literal
        os.kill(pid, 9)
        try:
            while c.recv(65536):
                pass
        except (OSError, socket.timeout):
            pass
        c.close()
        m = self.login("kill@example.test")
        self.assertEqual(m.select("INBOX"), ("OK", [b"1"]))
        typ, data = m.fetch("1", "(BODY.PEEK[])")
        self.assertTrue(data[0][1].endswith(big))        # after our Received:
        m.logout()

    def test_thousand_messages(self):
        """A 1000-message mailbox: the login imports one batch (a backlog
        never delays it), NOOP brings the rest, FETCH 1:* answers for
        all, UIDs 1..1000 in order."""
        self.inst.add_user("many@example.test")
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=60) as s:
            s.ehlo("client.test")
            for i in range(1000):
                s.sendmail("a@other.test", ["many@example.test"], MSG % i)
        m = self.login("many@example.test")
        typ, data = m.select("INBOX")
        self.assertGreaterEqual(int(data[0]), 500)
        for _ in range(5):
            if m.untagged_responses.get("EXISTS", [b"0"])[-1] == b"1000":
                break
            m.noop()
        typ, data = m.fetch("1:*", "(UID FLAGS)")
        self.assertEqual(len(data), 1000)
        self.assertEqual(data[-1], b"1000 (UID 1000 FLAGS (\\Recent))")
        m.logout()

    def test_address_variants_never_reach_another_account(self):
        """My password with variants of another user's address (case,
        spaces, a trailing dot, a stray NUL-free suffix, the local part
        alone) never logs in, and my own address in another case opens
        my own mailbox only."""
        subprocess.run([os.path.join(self.build, "sealpostctl"), "-c", self.inst.conf,
                        "user", "add", "victim@example.test", "--password-file",
                        "/dev/stdin"], input=b"the victim's own password\n",
                       check=True, capture_output=True)
        for user in ("victim@example.test", "VICTIM@EXAMPLE.TEST", " victim@example.test",
                     "victim@example.test.", "victim", "victim@example.test ",
                     "victim@example.test\tx", "victim@@example.test"):
            m = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                                  ssl_context=self.inst.tls_context(), timeout=30)
            try:
                with self.assertRaises(imaplib.IMAP4.error, msg=repr(user)):
                    m.login(user, self.pw)
            finally:
                m.shutdown()
        m = self.login("DEMO@Example.Test")
        m.xatom("XSPTEST")
        mine = m.untagged_responses.pop("XSPTEST")[0]
        m.logout()
        m = self.login()
        m.xatom("XSPTEST")
        self.assertEqual(m.untagged_responses.pop("XSPTEST")[0].split()[:2], mine.split()[:2])
        m.logout()

    @staticmethod
    def until(c, tag):
        """Lines up to the tagged one; returns it."""
        for _ in range(50):
            line = read_line(c)
            if line.startswith(tag) or line == b"":
                return line
        return b""

    def test_literals_after_login(self):
        c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        read_line(c)
        c.sendall(b'a LOGIN demo@example.test "%s"\r\n' % self.pw.encode())
        self.assertRegex(read_line(c), rb"^a OK ")
        c.sendall(b"b SELECT {5}\r\n")
        self.assertEqual(read_line(c), b"+ Ready for literal data")
        c.sendall(b"INBOX\r\n")
        self.assertEqual(self.until(c, b"b "), b"b OK [READ-WRITE] SELECT completed")
        c.sendall(b"c EXAMINE {7+}\r\nArchive\r\n")     # LITERAL+: no "+"
        self.assertEqual(self.until(c, b"c "), b"c OK [READ-ONLY] EXAMINE completed")
        c.sendall(b"d SELECT {4294967295}\r\n")          # refused at once, tagged
        self.assertEqual(read_line(c), b"d NO [TOOBIG] Command or literal too large")
        c.sendall(b"e NOOP\r\n")
        self.assertEqual(read_line(c), b"e OK NOOP completed")
        c.sendall(b"f FETCH 1 (FLAGS ((((((((((((((((((((((((x))))))))))))))))))))))))\r\n")
        self.assertRegex(read_line(c), rb"^f BAD ")
        c.sendall(b"h APPEND INBOX {99999999999}\r\n")   # over max-size: NO at once
        self.assertEqual(read_line(c), b"h NO [TOOBIG] Command or literal too large")
        c.sendall(b"g SELECT {99999999+}\r\n")          # cannot be skipped: BYE
        self.assertEqual(read_line(c), b"* BYE [TOOBIG] Literal too large")
        c.close()


class ImapTimeouts(unittest.TestCase):
    """Every IMAP state has a timeout: before login a whole command must
    arrive within it however slowly its bytes trickle in (SECURITY-TESTS
    T56), after login between commands and for the whole of an IDLE.
    test-imap-timeouts (a test-hooks key) makes them 1 s here; the real
    ones are 60 s before login and 30 minutes after (RFC 3501 5.4)."""

    def test_every_state_times_out(self):
        import time
        with Instance("imap-timeouts", extra_conf=["instance-type test", "kdf-strength test",
                                                   "test-imap-timeouts 1000"]) as inst:
            inst.wait_services_ready()
            pw = open(os.path.join(inst.dir, "demo-password")).read().strip()
            bye = b"* BYE Autologout; idle for too long"
            with connect(inst.port("imap")) as c:           # silent after the greeting
                c.settimeout(10)
                read_line(c)
                self.assertEqual(read_line(c), bye)
                self.assertEqual(c.recv(10), b"")
            with connect(inst.port("imap")) as c:           # a literal, a byte at a time
                c.settimeout(10)
                read_line(c)
                c.sendall(b"a NOOP {20+}\r\n")
                sent = 0
                for _ in range(12):
                    try:
                        c.sendall(b"x")
                    except OSError:
                        break
                    sent += 1
                    time.sleep(0.25)
                self.assertEqual(read_line(c), bye)
                self.assertLess(sent, 12)                   # no read waited 1 s
            def login():
                c = inst.tls_context().wrap_socket(connect(inst.port("imaps")),
                                                   server_hostname="127.0.0.1")
                c.settimeout(10)
                read_line(c)
                c.sendall(b'a LOGIN demo@example.test "%s"\r\nb SELECT INBOX\r\n'
                          % pw.encode())
                self.assertRegex(read_line(c), rb"^a OK ")
                for _ in range(20):
                    if read_line(c).startswith(b"b "):
                        break
                return c
            c = login()                                     # logged in, then silent
            self.assertEqual(read_line(c), bye)
            self.assertEqual(c.recv(10), b"")
            c.close()
            c = login()                                     # an IDLE ends too
            c.sendall(b"i IDLE\r\n")
            self.assertEqual(read_line(c), b"+ idling")
            t0 = time.monotonic()
            self.assertEqual(read_line(c), bye)
            self.assertLess(time.monotonic() - t0, 8)
            c.close()
            inst.wait_log(r"imap-mail event=disconnect account=\d+ reason=timeout")
            inst.stop()
            self.assertEqual(len(re.findall(r"imap-mail event=disconnect account=\d+ "
                                            r"reason=timeout", inst.log())), 2)
            self.assertEqual(len(re.findall(r"imap-login.*reason=timeout", inst.log())), 2)
            self.assertEqual(inst.bad_log_lines(), [])


class Imap(ImapBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class ImapPlainBuild(ImapBase, unittest.TestCase):
    build = PLAIN or BUILD
