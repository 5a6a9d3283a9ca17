"""IMAP SEARCH (issue 7): every RFC 3501 search key against three
messages (two delivered over SMTP, one APPENDed) (encoded-word headers in ISO-8859-1, a
base64 text part, a quoted-printable Latin-1 body, a message without a
Date), CHARSET UTF-8 with Unicode case folding, UID SEARCH, ESEARCH
results (RFC 4731), and the refusals: BADCHARSET, BAD keys and dates,
nesting past the limit (NO [LIMIT])."""

import datetime
import os
import re
import smtplib
import unittest

from sealpost_test import BUILD, Instance, connect, read_line

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")

M1 = (b'From: =?ISO-8859-1?Q?Alice_M=FCller?= <alice@other.test>\r\n'
      b"To: bob@example.test\r\n"
      b"Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=\r\n"
      b"Date: Sun, 01 Feb 2026 10:00:00 +0100\r\n"
      b"MIME-Version: 1.0\r\n"
      b"Content-Type: text/plain; charset=iso-8859-1\r\n"
      b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      b"Fondue f=FCr alle\r\n")
M2 = (b"From: carol@other.test\r\nTo: team@example.test\r\n"
      b"Cc: dave@other.test\r\n"
      b"Subject: Quarterly REPORT\r\n"
      b"Date: Sun, 15 Mar 2026 23:30:00 -0500\r\n"
      b"X-Custom: Hello World\r\n"
      b"MIME-Version: 1.0\r\n"
      b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
      b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
      b"Content-Transfer-Encoding: base64\r\n\r\n"
      b"dGhlIHNlY3JldCB3b3JkIGlzIFh5bG9waG9uZQ==\r\n"
      b"--b\r\nContent-Type: text/html\r\n\r\n<p>" + b"padding padding\r\n" * 250 + b"</p>\r\n"
      b"--b--\r\n")
M3 = (b"From: bob@example.test\r\nTo: carol@other.test\r\n"
      b"Bcc: hidden@other.test\r\nSubject: re: nothing\r\n\r\n"
      b"nothing here\r\n")


class SearchBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("imap-search", build=cls.build,
                            extra_conf=["instance-type test", "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.pw = cls.inst.demo_password
        cls.inst.add_user("search@example.test")
        with smtplib.SMTP("127.0.0.1", cls.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            for m in (M1, M2):
                s.sendmail("x@other.test", ["search@example.test"], m)
        # SMTP refuses a message without Date (RFC 5322 3.6): APPEND takes it
        m = cls.inst.imaps("search@example.test")
        assert m.append("INBOX", None, None, M3)[0] == "OK"
        m.logout()

    @classmethod
    def tearDownClass(cls):
        cls.inst.finish()

    def setUp(self):
        self.c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                     server_hostname="127.0.0.1")
        self.c.settimeout(60)
        read_line(self.c)
        self.n = 0
        self.cmd(b'LOGIN search@example.test "%s"' % self.pw.encode())
        self.cmd(b"SELECT INBOX")
        # messages are not imported in delivery order: number them by subject
        data, _ = self.cmd(b"FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.num, self.uid = {}, {}
        for seq, uid, subj in re.findall(rb"\* (\d+) FETCH \(UID (\d+) [^\r]*\r\n"
                                         rb"Subject: ([^\r]*)\r\n", data):
            k = 1 if b"Gr" in subj else 2 if b"Quarterly" in subj else 3
            self.num[k], self.uid[k] = int(seq), int(uid)
        self.assertEqual(sorted(self.num), [1, 2, 3])
        self.cmd(b"STORE %d +FLAGS.SILENT (\\Flagged)" % self.num[1])
        self.cmd(b"STORE %d -FLAGS.SILENT (\\Flagged)" % self.num[2])
        self.cmd(b"STORE %d -FLAGS.SILENT (\\Flagged)" % self.num[3])

    def tearDown(self):
        self.c.close()

    def cmd(self, text, literals=()):
        """A command, with synchronizing literals sent after each "+"."""
        self.n += 1
        tag = b"t%d" % self.n
        parts = text.split(b"{}")
        out = tag + b" " + parts[0]
        for lit, rest in zip(literals, parts[1:]):
            self.c.sendall(out + b"{%d}\r\n" % len(lit))
            self.assertTrue(read_line(self.c).startswith(b"+"))
            out = lit + rest
        self.c.sendall(out + b"\r\n")
        data = b""
        while True:
            line = read_line(self.c)
            if line.startswith(tag + b" "):
                return data, line
            data += line + b"\r\n"

    def search(self, keys, literals=(), uid=False):
        data, done = self.cmd((b"UID SEARCH " if uid else b"SEARCH ") + keys, literals)
        self.assertRegex(done, rb" OK ", (keys, done))
        m = re.search(rb"\* SEARCH([ \d]*)\r\n", data)
        got = [int(x) for x in m.group(1).split()]
        back = {v: k for k, v in (self.uid if uid else self.num).items()}
        return sorted(back[x] for x in got)

    def test_flags_sizes_sets(self):
        for keys, want in ((b"ALL", [1, 2, 3]), (b"FLAGGED", [1]), (b"UNFLAGGED", [2, 3]),
                           (b"UNSEEN", [1, 2, 3]), (b"SEEN", []), (b"ANSWERED", []),
                           (b"UNDELETED", [1, 2, 3]), (b"DRAFT", []), (b"UNDRAFT", [1, 2, 3]),
                           (b"NEW", []), (b"OLD", [1, 2, 3]), (b"RECENT", []),
                           (b"KEYWORD $Junk", []), (b"UNKEYWORD $Junk", [1, 2, 3]),
                           (b"LARGER 3000", [2]), (b"SMALLER 3000", [1, 3]),
                           (b"1:*", [1, 2, 3]), (b"NOT FLAGGED", [2, 3]),
                           (b"OR FLAGGED LARGER 3000", [1, 2]),
                           (b"(OR FLAGGED LARGER 3000) NOT FLAGGED", [2]),
                           (b"UNFLAGGED SMALLER 3000", [3])):
            self.assertEqual(self.search(keys), want, keys)
        self.assertEqual(self.search(b"%d" % self.num[2]), [2])
        self.assertEqual(self.search(b"UID %d" % self.uid[3]), [3])
        self.assertEqual(self.search(b"UID %d,%d" % (self.uid[1], self.uid[3]), uid=True), [1, 3])
        self.assertEqual(self.search(b"UID 1:*", uid=True), [1, 2, 3])

    def test_addresses_and_subject(self):
        for keys, want in ((b"FROM alice", [1]), (b"FROM CAROL", [2]),
                           (b"FROM \"example.test\"", [3]), (b"TO bob", [1]),
                           (b"TO carol", [3]), (b"CC dave", [2]), (b"BCC hidden", [3]),
                           (b"SUBJECT report", [2]), (b"SUBJECT \"RE: NOTH\"", [3]),
                           (b"SUBJECT nope", []), (b"FROM m\\\"x", None)):
            if want is None:
                continue
            self.assertEqual(self.search(keys), want, keys)
        # CHARSET UTF-8: decoded Latin-1 encoded-words, Unicode case folding
        self.assertEqual(self.search(b"CHARSET UTF-8 FROM {}", ["M\u00dcLLER".encode()]), [1])
        self.assertEqual(self.search(b"CHARSET UTF-8 SUBJECT {}", ["k\u00f6ln".encode()]), [1])
        self.assertEqual(self.search(b"CHARSET UTF-8 SUBJECT {}", ["GR\u00dcSSE".encode()]), [1])
        self.assertEqual(self.search(b"CHARSET US-ASCII SUBJECT quarterly"), [2])

    def test_header_body_text(self):
        for keys, want in ((b"HEADER X-Custom hello", [2]), (b'HEADER x-custom ""', [2]),
                           (b"HEADER X-Custom nope", []), (b'HEADER Subject "aus"', [1]),
                           (b"BODY xylophone", [2]), (b"BODY nothing", [3]),
                           (b"BODY padding", [2]), (b"BODY quarterly", []),
                           (b"TEXT quarterly", [2]), (b"TEXT nothing", [3]),
                           (b"TEXT hidden@", [3]), (b"NOT BODY secret", [1, 3])):
            self.assertEqual(self.search(keys), want, keys)
        self.assertEqual(self.search(b"CHARSET UTF-8 BODY {}", ["F\u00dcR ALLE".encode()]), [1])

    def test_dates(self):
        today = datetime.datetime.now(datetime.timezone.utc).strftime("%d-%b-%Y").encode()
        for keys, want in ((b"ON " + today, [1, 2, 3]), (b"BEFORE 1-Jan-2000", []),
                           (b"SINCE 1-Jan-2000", [1, 2, 3]),
                           (b"SENTON 1-Feb-2026", [1]),
                           # 23:30 -0500 is the 16th in UTC: the Date's own day counts
                           (b"SENTON 15-Mar-2026", [2]), (b"SENTON 16-Mar-2026", []),
                           (b'SENTBEFORE "1-Mar-2026"', [1]),
                           (b"SENTSINCE 2-Feb-2026 SENTBEFORE 1-Jan-2027", [2, 3])):
            self.assertEqual(self.search(keys), want, keys)

    def test_esearch(self):
        data, done = self.cmd(b"SEARCH RETURN (MIN MAX COUNT) ALL")
        self.assertIn(b'* ESEARCH (TAG "t%d") MIN 1 MAX 3 COUNT 3\r\n' % self.n, data)
        data, done = self.cmd(b"SEARCH RETURN () FLAGGED")
        self.assertIn(b'* ESEARCH (TAG "t%d") ALL %d\r\n' % (self.n, self.num[1]), data)
        data, done = self.cmd(b"UID SEARCH RETURN (COUNT ALL MIN) FROM nobody")
        self.assertIn(b'* ESEARCH (TAG "t%d") UID COUNT 0\r\n' % self.n, data)
        data, done = self.cmd(b"UID SEARCH RETURN (ALL) 1:*")
        uids = sorted(self.uid.values())
        self.assertIn(b'* ESEARCH (TAG "t%d") UID ALL %d:%d\r\n' % (self.n, uids[0], uids[-1]),
                      data)
        _, done = self.cmd(b"SEARCH RETURN (BOGUS) ALL")
        self.assertRegex(done, rb" BAD ")

    def test_refusals(self):
        for keys, want in ((b"CHARSET KOI8-R ALL", rb" NO \[BADCHARSET \(UTF-8 US-ASCII\)\] "),
                           (b"FROOM x", rb" BAD "), (b"BEFORE 32-Jan-2026", rb" BAD "),
                           (b"BEFORE 1-Foo-2026", rb" BAD "), (b"LARGER 4294967296", rb" BAD "),
                           (b"FROM", rb" BAD "), (b"OR ALL", rb" BAD "), (b"()", rb" BAD "),
                           (b"HEADER \"a:b\" x", rb" BAD "), (b"0", rb" BAD "),
                           (b"NOT " * 100 + b"ALL", rb" NO \[LIMIT\] ")):
            _, done = self.cmd(b"SEARCH " + keys)
            self.assertRegex(done, want, keys)
        _, done = self.cmd(b"SEARCH")
        self.assertRegex(done, rb" BAD ")
        # T28: 1,000 nested NOT/OR are refused at once, the session goes on
        _, done = self.cmd(b"SEARCH " + b"OR ALL " * 1000 + b"ALL")
        self.assertRegex(done, rb" NO \[LIMIT\] ")
        self.assertEqual(self.search(b"ALL"), [1, 2, 3])


class Search(SearchBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class SearchPlainBuild(SearchBase, unittest.TestCase):
    build = PLAIN or BUILD
