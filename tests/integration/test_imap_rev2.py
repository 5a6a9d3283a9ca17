"""IMAP4rev2 (RFC 9051) for a client that enables it, beside IMAP4rev1,
COMPRESS=DEFLATE (RFC 4978),
and UTF8=ACCEPT (RFC 6855) (issue 9): the Thunderbird path of a client
that enabled IMAP4rev2 (LIST, SELECT with its LIST line and no RECENT,
UID FETCH of the header fields, ESEARCH answers to SEARCH, STORE, MOVE,
IDLE woken by a delivery, [CLOSED], EXPUNGE) while an IMAP4rev1
connection to the same mailbox keeps \\Recent and SEARCH; mailbox names
and quoted strings in UTF-8 after ENABLE UTF8=ACCEPT (or IMAP4rev2), in
modified UTF-7 for everyone else, APPEND UTF8 (~{n}), and UTF-8 that is
not well formed refused."""

import email
import email.header
import email.policy
import os
import re
import smtplib
import unittest
import zlib

from sealpost_test import BUILD, ImapRaw as Raw, Instance, read_line

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
MSG = (b"From: Ann <a@other.test>\r\nTo: r2@example.test\r\n"
       b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\nSubject: rev2 %d\r\n"
       b"Message-ID: <%d@other.test>\r\n\r\nbody\r\n")


class Deflated:
    """An ImapRaw connection after COMPRESS DEFLATE: raw deflate both
    ways, a sync flush after every command, literals inline."""

    def __init__(self, raw):
        self.raw = raw
        self.z = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.d = zlib.decompressobj(-15)
        self.buf = b""
        self.wire = 0           # compressed bytes received

    def send(self, data):
        self.raw.c.sendall(self.z.compress(data) + self.z.flush(zlib.Z_SYNC_FLUSH))

    def _more(self):
        data = self.raw.c.recv(65536)
        if not data:
            raise AssertionError("connection closed")
        self.wire += len(data)
        self.buf += self.d.decompress(data)

    def line(self):
        while b"\r\n" not in self.buf:
            self._more()
        ln, self.buf = self.buf.split(b"\r\n", 1)
        m = re.search(rb"\{(\d+)\}$", ln)
        if m:
            n = int(m.group(1))
            while len(self.buf) < n:
                self._more()
            ln += b"\r\n" + self.buf[:n]
            self.buf = self.buf[n:]
            ln += self.line()
        return ln

    def cmd(self, line):
        self.raw.n += 1
        tag = b"z%d" % self.raw.n
        self.send(tag + b" " + line + b"\r\n")
        got = []
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                return got, ln[len(tag) + 1:]
            got.append(ln)


class Rev2Base:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("imap-rev2", build=cls.build,
                            extra_conf=["instance-type test", "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.pw = cls.inst.demo_password

    @classmethod
    def tearDownClass(cls):
        cls.inst.finish()

    def deliver(self, addr, n, first=0):
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            for i in range(n):
                s.sendmail("a@other.test", [addr], MSG % (first + i, first + i))

    def raw(self, addr):
        r = Raw(self.inst, addr, self.pw)
        self.addCleanup(r.close)
        return r

    def test_thunderbird_path(self):
        addr = "r2@example.test"
        self.inst.add_user(addr)
        self.deliver(addr, 3)
        a = self.raw(addr)
        got, done = a.cmd("CAPABILITY")
        self.assertIn(b" IMAP4rev1 ", got[0])
        self.assertIn(b" IMAP4rev2 ", got[0])
        got, done = a.cmd("ENABLE IMAP4rev2")
        self.assertEqual((got, done), ([b"* ENABLED IMAP4rev2"], b"OK ENABLE completed"))
        got, done = a.cmd('LIST "" "*" RETURN (SPECIAL-USE)')
        self.assertIn(b'* LIST (\\HasNoChildren) "/" "INBOX"', got)
        self.assertIn(b'* LIST (\\HasNoChildren \\Trash) "/" "Trash"', got)
        got, done = a.cmd("SELECT INBOX")
        self.assertTrue(done.startswith(b"OK [READ-WRITE]"), done)
        self.assertIn(b"* 3 EXISTS", got)
        self.assertIn(b'* LIST (\\HasNoChildren) "/" "INBOX"', got)
        self.assertFalse([l for l in got if b"RECENT" in l or b"UNSEEN" in l], got)
        got, done = a.cmd("UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS "
                          "(From To Cc Bcc Subject Date Message-ID Priority X-Priority "
                          "References Newsgroups In-Reply-To Content-Type Reply-To)])")
        self.assertEqual(done, b"OK UID FETCH completed")
        heads = [l for l in got if l.startswith(b"* ") and b"FETCH" in l]
        self.assertEqual(len(heads), 3)
        for l in heads:
            self.assertIn(b"FLAGS ()", l)       # no \Recent for IMAP4rev2
        tag = a.send("UID SEARCH UNSEEN")
        self.assertEqual(a.reply(tag)[0], [b'* ESEARCH (TAG "%s") UID ALL 1:3' % tag])
        tag = a.send("SEARCH SUBJECT nothing-like-it")
        self.assertEqual(a.reply(tag)[0], [b'* ESEARCH (TAG "%s")' % tag])
        got, done = a.cmd("UID STORE 1 +FLAGS (\\Seen)")
        self.assertEqual(got, [b"* 1 FETCH (UID 1 FLAGS (\\Seen))"])
        got, done = a.cmd("UID MOVE 2 Archive")
        self.assertTrue(done.startswith(b"OK"), done)
        self.assertIn(b"* 2 EXPUNGE", got)
        # an IMAP4rev1 connection to the same mailbox: \Recent, SEARCH
        b = self.raw(addr)
        got, done = b.cmd("SELECT INBOX")
        self.assertIn(b"* 0 RECENT", got)
        got, done = b.cmd("SEARCH ALL")
        self.assertEqual(got, [b"* SEARCH 1 2"])
        # IDLE: a delivery says EXISTS, never RECENT
        tag = a.send(b"IDLE")
        self.assertEqual(read_line(a.c), b"+ idling")
        self.deliver(addr, 1, 9)
        self.assertEqual(read_line(a.c), b"* 3 EXISTS")
        a.c.sendall(b"DONE\r\n")
        got, done = a.reply(tag)
        self.assertEqual((got, done), ([], b"OK IDLE terminated"))
        got, done = a.cmd("FETCH 3 (FLAGS)")
        self.assertEqual(got, [b"* 3 FETCH (FLAGS ())"])
        # another mailbox: [CLOSED] first
        got, done = a.cmd("EXAMINE Archive")
        self.assertEqual(got[0], b"* OK [CLOSED] Previous mailbox closed")
        self.assertIn(b'* LIST (\\HasNoChildren \\Archive) "/" "Archive"', got)
        got, done = a.cmd("SELECT INBOX")
        got, done = a.cmd("UID STORE 1 +FLAGS.SILENT (\\Deleted)")
        got, done = a.cmd("UID EXPUNGE 1")
        self.assertEqual(got, [b"* 1 EXPUNGE"])
        got, done = a.cmd("STATUS INBOX (MESSAGES UIDNEXT SIZE DELETED)")
        self.assertRegex(got[0], rb'^\* STATUS "INBOX" \(MESSAGES 2 UIDNEXT 5 SIZE \d+ DELETED 0\)$')

    def test_message_global(self):
        """A message/global part (RFC 6532) is a message for IMAP4rev2
        (RFC 9051 media-message: envelope, body, lines) and a basic part
        for IMAP4rev1, which has no such body type."""
        addr = "glob@example.test"
        self.inst.add_user(addr)
        inner = ("From: J\u00f6rg <j@b.example>\r\nSubject: inner\r\n"
                 "Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n\r\nhi\r\n").encode()
        outer = (b"From: a@other.test\r\nTo: glob@example.test\r\nSubject: outer\r\n"
                 b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
                 b"Content-Type: multipart/mixed; boundary=xx\r\n\r\n--xx\r\n"
                 b"Content-Type: text/plain\r\n\r\nsee inside\r\n--xx\r\n"
                 b"Content-Type: message/global\r\n\r\n" + inner + b"\r\n--xx--\r\n")
        a = self.raw(addr)
        got, done = a.cmd(b"APPEND INBOX {%d+}\r\n%s" % (len(outer), outer))
        self.assertTrue(done.startswith(b"OK"), done)
        a.cmd("SELECT INBOX")
        got, done = a.cmd("FETCH 1 (BODY)")
        self.assertIn(b'("MESSAGE" "GLOBAL" NIL NIL NIL "7BIT" %d)' % len(inner), got[0])
        b = self.raw(addr)
        b.cmd("ENABLE IMAP4rev2")
        # binary APPEND (RFC 3516): without NUL stored, with NUL refused
        # as a server without binary storage does
        got, done = b.cmd(b"APPEND Drafts ~{%d+}\r\n%s" % (len(inner), inner))
        self.assertTrue(done.startswith(b"OK [APPENDUID"), done)
        nul = inner.replace(b"hi", b"h\0i")
        got, done = b.cmd(b"APPEND Drafts ~{%d+}\r\n%s" % (len(nul), nul))
        self.assertEqual(done, b"NO [UNKNOWN-CTE] Message contains NUL octets")
        b.cmd("SELECT INBOX")
        got, done = b.cmd("FETCH 1 (BODY)")
        self.assertRegex(got[0], rb'\("MESSAGE" "GLOBAL" NIL NIL NIL "7BIT" %d '
                         rb'\("Fri, 27 Nov 2026 12:00:00 \+0000" "inner" .*\) '
                         rb'\("TEXT" "PLAIN" .*\) \d+\)' % len(inner))

    def test_compress(self):
        """COMPRESS DEFLATE: the OK in clear, then deflate both ways (a
        large message comes over in a fraction of its size, an APPEND
        goes up compressed, IDLE hears a delivery through it); once per
        connection; an unknown mechanism is BAD; a corrupt stream ends
        the session and nothing else."""
        addr = "z@example.test"
        self.inst.add_user(addr)
        big = (b"From: a@other.test\r\nTo: z@example.test\r\nSubject: big\r\n"
               b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n\r\n" +
               b"all work and no play makes a dull mail server\r\n" * 5000)
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            s.sendmail("a@other.test", [addr], big)
        a = self.raw(addr)
        got, done = a.cmd("COMPRESS LZ4")
        self.assertEqual(done, b"BAD Unknown compression mechanism")
        got, done = a.cmd("COMPRESS DEFLATE")
        self.assertEqual((got, done), ([], b"OK DEFLATE active"))
        z = Deflated(a)
        got, done = z.cmd(b"SELECT INBOX")
        self.assertIn(b"* 1 EXISTS", got)
        z.wire = 0
        got, done = z.cmd(b"FETCH 1 (BODY.PEEK[])")
        self.assertEqual(done, b"OK FETCH completed")
        body = got[0].split(b"}\r\n", 1)[1][:-1]
        self.assertTrue(body.endswith(big))
        self.assertLess(z.wire, len(body) // 20)       # it is compressed
        got, done = z.cmd(b"APPEND INBOX {%d+}\r\n%s" % (len(big), big))
        self.assertTrue(done.startswith(b"OK [APPENDUID"), done)
        got, done = z.cmd(b"FETCH 2 (BODY.PEEK[])")
        self.assertEqual(got[0].split(b"}\r\n", 1)[1][:-1], big)
        got, done = z.cmd(b"COMPRESS DEFLATE")
        self.assertEqual(done, b"NO [COMPRESSIONACTIVE] DEFLATE active already")
        # IDLE through it: the delivery's EXISTS comes compressed
        z.send(b"i IDLE\r\n")
        self.assertEqual(z.line(), b"+ idling")
        self.deliver(addr, 1)
        self.assertEqual(z.line(), b"* 3 EXISTS")
        self.assertEqual(z.line(), b"* 3 RECENT")
        z.send(b"DONE\r\n")
        self.assertEqual(z.line(), b"i OK IDLE terminated")
        # garbage where deflate should be: the session ends
        b = self.raw(addr)
        b.cmd("COMPRESS DEFLATE")
        b.c.sendall(b"\xff" * 64)
        self.assertEqual(b.c.recv(1024), b"")
        self.inst.wait_log(r"COMPRESS: the client's deflate stream is corrupt")

    def test_smtputf8_mail(self):
        """SMTPUTF8 mail into IMAP: read as it came with UTF8=ACCEPT (or
        IMAP4rev2); downgraded to a 7-bit header for a client without it
        (RFC 6855 7): encoded-words that decode to the original, a
        domain in punycode, an address that has no 7-bit form shown as
        an empty group, a Message-ID that cannot be written dropped, the
        body untouched, and every size consistent with what is sent."""
        addr = "intl@example.test"
        self.inst.add_user(addr)
        subject = "Gr\u00fc\u00dfe aus K\u00f6ln"
        msg = ("From: J\u00f6rg <j\u00f6rg@b\u00fccher.example>\r\n"
               "To: intl@example.test\r\n"
               "Cc: Ann <ann@b\u00fccher.example>\r\n"
               "Subject: %s\r\n"
               "Message-ID: <\u00fc1@b\u00fccher.example>\r\n"
               "Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n"
               "\r\n"
               "Sch\u00f6ne Gr\u00fc\u00dfe!\r\n" % subject).encode()
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            s.sendmail("j\u00f6rg@b\u00fccher.example", [addr], msg,
                       mail_options=["SMTPUTF8"])
        a = self.raw(addr)
        a.cmd("ENABLE UTF8=ACCEPT")
        a.cmd("SELECT INBOX")
        got, done = a.cmd("FETCH 1 (RFC822.SIZE BODY.PEEK[] ENVELOPE)")
        raw_size = int(re.search(rb"RFC822\.SIZE (\d+)", got[0]).group(1))
        whole = re.search(rb"BODY\[\] \{(\d+)\}\r\n", got[0])
        body_a = got[0][whole.end():whole.end() + int(whole.group(1))]
        self.assertEqual(len(body_a), raw_size)
        self.assertTrue(body_a.endswith(msg))
        self.assertIn(subject.encode(), got[0])         # as it came
        # a client without UTF8=ACCEPT
        b = self.raw(addr)
        b.cmd("SELECT INBOX")
        got, done = b.cmd("FETCH 1 (RFC822.SIZE BODY.PEEK[] BODY.PEEK[HEADER] "
                          "BODY.PEEK[TEXT] BINARY.SIZE[] ENVELOPE)")
        line = got[0]
        size = int(re.search(rb"RFC822\.SIZE (\d+)", line).group(1))
        def lit(name):
            m = re.search(re.escape(name) + rb" \{(\d+)\}\r\n", line)
            return line[m.end():m.end() + int(m.group(1))]
        body_b = lit(b"BODY[]")
        header_b = lit(b"BODY[HEADER]")
        self.assertEqual(len(body_b), size)
        self.assertEqual(int(re.search(rb"BINARY\.SIZE\[\] (\d+)", line).group(1)), size)
        self.assertTrue(body_b.startswith(header_b))
        self.assertEqual(lit(b"BODY[TEXT]"), body_b[len(header_b):])
        self.assertTrue(body_b.endswith("Sch\u00f6ne Gr\u00fc\u00dfe!\r\n".encode()))
        self.assertTrue(all(c < 0x80 for c in header_b), header_b)
        parsed = email.message_from_bytes(body_b, policy=email.policy.default)
        self.assertEqual(str(parsed["Subject"]), subject)
        self.assertIsNone(parsed["Message-ID"])
        self.assertIn("j\u00f6rg@b\u00fccher.example", str(parsed["From"]))
        self.assertIn(b"@xn--bcher-kva.example", header_b)
        # ENVELOPE from the downgraded header: 7-bit, the subject encoded
        env = line[line.index(b"ENVELOPE ("):line.index(b" BODY[] {")]
        self.assertTrue(all(c < 0x80 for c in env), env)
        self.assertIn(b"=?", env)
        # partials and HEADER.FIELDS cut the same bytes
        got, done = b.cmd("FETCH 1 (BODY.PEEK[]<10.40> BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn(b"BODY[]<10> {40}\r\n" + body_b[10:50], got[0])
        self.assertTrue(all(c < 0x80 for c in got[0]), got[0])
        # enabled, the same connection reads it as it came
        b.cmd("ENABLE UTF8=ACCEPT")
        got, done = b.cmd("FETCH 1 (RFC822.SIZE)")
        self.assertIn(b"RFC822.SIZE %d" % raw_size, got[0])

    def test_utf8_names(self):
        addr = "u8@example.test"
        self.inst.add_user(addr)
        a = self.raw(addr)
        b = self.raw(addr)
        # before ENABLE: 8-bit in a quoted string is refused
        got, done = a.cmd('CREATE "Caf\u00e9"'.encode())
        self.assertEqual(done, b"BAD 8-bit byte in a quoted string")
        got, done = a.cmd("ENABLE UTF8=ACCEPT CONDSTORE")
        self.assertEqual(got[0], b"* ENABLED CONDSTORE UTF8=ACCEPT")
        for name in ("Caf\u00e9", "\u65e5\u672c\u8a9e/\u53f0\u5317", "Smile \U0001F600",
                     "R&D"):
            got, done = a.cmd(b'CREATE "%s"' % name.encode())
            self.assertEqual(done, b"OK CREATE completed", name)
        got, done = a.cmd('LIST "" "*"')
        listed = [re.search(rb'"/" "(.*)"$', l).group(1).decode() for l in got]
        for name in ("Caf\u00e9", "\u65e5\u672c\u8a9e", "\u65e5\u672c\u8a9e/\u53f0\u5317",
                     "Smile \U0001F600", "R&D"):
            self.assertIn(name, listed)
        # patterns in UTF-8 too, wildcards anywhere
        got, done = a.cmd('LIST "" "\u65e5*"'.encode())
        self.assertEqual(len(got), 2, got)
        # an IMAP4rev1 client without UTF8=ACCEPT sees modified UTF-7
        got, done = b.cmd('LIST "" "*"')
        listed = [re.search(rb'"/" "(.*)"$', l).group(1).decode() for l in got]
        for name in ("Caf&AOk-", "&ZeVnLIqe-", "&ZeVnLIqe-/&U,BTFw-", "Smile &2D3eAA-",
                     "R&-D"):
            self.assertIn(name, listed)
        # one mailbox: what b appends to the mUTF-7 name, a sees by UTF-8
        self.assertEqual(b.cmd('APPEND "Caf&AOk-" {%d+}\r\n%s' % (
            len(MSG % (1, 1)), (MSG % (1, 1)).decode()))[1][:2], b"OK")
        got, done = a.cmd('STATUS "Caf\u00e9" (MESSAGES)'.encode())
        self.assertEqual(got, ['* STATUS "Caf\u00e9" (MESSAGES 1)'.encode()])
        got, done = a.cmd('SELECT "Caf\u00e9"'.encode())
        self.assertTrue(done.startswith(b"OK"), done)
        # APPEND UTF8 (~{n}): a message with UTF-8 in its header
        m8 = ("From: J\u00f6rg <j\u00f6rg@b\u00fccher.example>\r\nTo: u8@example.test\r\n"
              "Subject: Gr\u00fc\u00dfe\r\n\r\nHallo\r\n").encode()
        got, done = a.cmd(b'APPEND INBOX UTF8 (~{%d+}\r\n%s)' % (len(m8), m8))
        self.assertTrue(done.startswith(b"OK [APPENDUID"), done)
        a.cmd("SELECT INBOX")
        got, done = a.cmd("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertIn("Subject: Gr\u00fc\u00dfe".encode(), b"".join(got))
        got, done = b.cmd(b'APPEND INBOX UTF8 (~{%d+}\r\n%s)' % (len(m8), m8))
        self.assertEqual(done, b"BAD APPEND UTF8 needs ENABLE UTF8=ACCEPT")
        # UTF-8 that is not well formed, or a control: refused
        for bad in (b'CREATE "Caf\xe9"', b'CREATE "\xc0\xaf"', b'CREATE "a\xc2\x85b"',
                    b'CREATE "\xed\xa0\x80"'):
            got, done = a.cmd(bad)
            self.assertTrue(done.startswith(b"BAD"), (bad, done))
        got, done = a.cmd('LIST "" "*"')
        self.assertEqual(len(got), 6 + 5)       # the six and ours, no more


class Rev2(Rev2Base, unittest.TestCase):
    pass


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class Rev2PlainBuild(Rev2Base, unittest.TestCase):
    build = PLAIN


if __name__ == "__main__":
    unittest.main()
