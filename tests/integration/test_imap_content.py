"""IMAP message content (issue 7): FETCH ENVELOPE, BODY and
BODYSTRUCTURE from the sealed metadata, every BODY[section]<partial>
form (part numbers at depth, HEADER, HEADER.FIELDS and .NOT, TEXT, MIME,
message/rfc822 parts), RFC822, RFC822.HEADER, RFC822.TEXT, BINARY[],
BINARY.PEEK[] and BINARY.SIZE (RFC 3516, literal8, UNKNOWN-CTE), through
raw IMAP over implicit TLS on a message delivered over SMTP; expected
strings written by hand from the message below."""

import os
import re
import smtplib
import unittest

from sealpost_test import BUILD, Instance, connect, read_line

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")

P1 = b"caf=C3=A9 line one\r\nline two=\r\n joined"
P2_MIME = (b'Content-Type: application/octet-stream; name="bin.dat"\r\n'
           b"Content-Transfer-Encoding: base64\r\n"
           b'Content-Disposition: attachment; filename="bin.dat"\r\n\r\n')
P3_HDR = (b"From: Inner <inner@other.test>\r\nSubject: inner\r\n"
          b"Content-Type: text/plain\r\n\r\n")
HEAD = (b'From: "Alice Example" <alice@other.test>\r\n'
        b'To: bob@example.test, "Carol" <carol@example.test>\r\n'
        b"Cc: undisclosed-recipients:;\r\n"
        b"Subject: structure test\r\n"
        b"Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
        b"Message-ID: <m1@other.test>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n')
TEXT = (b"preamble\r\n--outer\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + P1 +
        b"\r\n--outer\r\n" + P2_MIME + b"AAECAwQFBgcICQ==" +
        b"\r\n--outer\r\nContent-Type: message/rfc822\r\n\r\n" + P3_HDR + b"inner body" +
        b"\r\n--outer\r\nContent-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\nend" +
        b"\r\n--outer--\r\nepilogue\r\n")
MSG = HEAD + TEXT


class ContentBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("imap-content", build=cls.build,
                            extra_conf=["instance-type test", "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.pw = cls.inst.demo_password
        cls.inst.add_user("content@example.test")
        with smtplib.SMTP("127.0.0.1", cls.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            s.sendmail("alice@other.test", ["content@example.test"], MSG)

    @classmethod
    def tearDownClass(cls):
        cls.inst.finish()

    def setUp(self):
        self.c = self.inst.tls_context().wrap_socket(connect(self.inst.port("imaps")),
                                                     server_hostname="127.0.0.1")
        self.c.settimeout(30)
        self.buf = b""
        read_line(self.c)
        self.n = 0
        self.cmd(b'LOGIN content@example.test "%s"' % self.pw.encode())
        self.cmd(b"SELECT INBOX")
        # the whole message as stored (our Received: line first)
        self.full = self.item(b"BODY.PEEK[]", b"BODY[]")

    def tearDown(self):
        self.c.close()

    def recv(self):
        chunk = self.c.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def response(self, tag):
        """Everything up to the tagged line, literals included: (data, tagged)."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self.recv()
            line, self.buf = self.buf.split(b"\r\n", 1)
            m = re.search(rb"~?\{(\d+)\}$", line)
            if m and not line.startswith(tag + b" "):
                n = int(m.group(1))
                while len(self.buf) < n:
                    self.recv()
                out += line + b"\r\n" + self.buf[:n]
                self.buf = self.buf[n:]
                continue
            if line.startswith(tag + b" "):
                return out, line
            out += line + b"\r\n"

    def cmd(self, text):
        self.n += 1
        tag = b"t%d" % self.n
        self.c.sendall(tag + b" " + text + b"\r\n")
        return self.response(tag)

    def item(self, what, name):
        """FETCH 1 (what): the value of item name (a literal's bytes)."""
        data, done = self.cmd(b"FETCH 1 (" + what + b")")
        self.assertRegex(done, rb" OK ", data)
        at = data.index(name + b" ")
        rest = data[at + len(name) + 1:]
        m = re.match(rb"~?\{(\d+)\}\r\n", rest)
        if m:
            return rest[m.end():m.end() + int(m.group(1))]
        return rest.split(b")\r\n")[0] if rest.startswith(b"NIL") is False else b"NIL"

    def test_sections(self):
        """Every section form, against the bytes of the message."""
        self.assertTrue(self.full.endswith(MSG))
        header = self.full[:len(self.full) - len(TEXT)]
        self.assertEqual(self.item(b"BODY.PEEK[HEADER]", b"BODY[HEADER]"), header)
        self.assertEqual(self.item(b"BODY.PEEK[TEXT]", b"BODY[TEXT]"), TEXT)
        self.assertEqual(self.item(b"BODY.PEEK[1]", b"BODY[1]"), P1)
        self.assertEqual(self.item(b"BODY.PEEK[2]", b"BODY[2]"), b"AAECAwQFBgcICQ==")
        self.assertEqual(self.item(b"BODY.PEEK[2.MIME]", b"BODY[2.MIME]"), P2_MIME)
        self.assertEqual(self.item(b"BODY.PEEK[3]", b"BODY[3]"), P3_HDR + b"inner body")
        self.assertEqual(self.item(b"BODY.PEEK[3.HEADER]", b"BODY[3.HEADER]"), P3_HDR)
        self.assertEqual(self.item(b"BODY.PEEK[3.TEXT]", b"BODY[3.TEXT]"), b"inner body")
        self.assertEqual(self.item(b"BODY.PEEK[3.1]", b"BODY[3.1]"), b"inner body")
        self.assertEqual(self.item(b"BODY.PEEK[3.HEADER.FIELDS (subject)]",
                                   b"BODY[3.HEADER.FIELDS (SUBJECT)]"),
                         b"Subject: inner\r\n\r\n")
        self.assertEqual(self.item(b"BODY.PEEK[HEADER.FIELDS (CC Message-ID)]",
                                   b"BODY[HEADER.FIELDS (CC MESSAGE-ID)]"),
                         b"Cc: undisclosed-recipients:;\r\nMessage-ID: <m1@other.test>\r\n\r\n")
        notrecv = self.item(b"BODY.PEEK[HEADER.FIELDS.NOT (RECEIVED)]",
                            b"BODY[HEADER.FIELDS.NOT (RECEIVED)]")
        self.assertEqual(notrecv, HEAD)
        # no such part, and a part with no HEADER of its own: NIL
        self.assertEqual(self.item(b"BODY.PEEK[9]", b"BODY[9]"), b"NIL")
        self.assertEqual(self.item(b"BODY.PEEK[1.HEADER]", b"BODY[1.HEADER]"), b"NIL")
        self.assertEqual(self.item(b"BODY.PEEK[3.2]", b"BODY[3.2]"), b"NIL")

    def test_partials(self):
        """<origin.count> at the edges: the name carries the origin; past
        the end is the empty string; a count past the end is cut."""
        data, _ = self.cmd(b"FETCH 1 (BODY.PEEK[]<0.10>)")
        self.assertIn(b"BODY[]<0> {10}\r\n" + self.full[:10], data)
        self.assertEqual(self.item(b"BODY.PEEK[1]<3.3>", b"BODY[1]<3>"), b"=C3")
        n = len(P1)
        self.assertEqual(self.item(b"BODY.PEEK[1]<%d.100>" % (n - 2), b"BODY[1]<%d>" % (n - 2)),
                         P1[-2:])
        self.assertEqual(self.item(b"BODY.PEEK[1]<%d.1>" % n, b"BODY[1]<%d>" % n), b"")
        self.assertEqual(self.item(b"BODY.PEEK[1]<4294967295.1>", b"BODY[1]<4294967295>"), b"")
        self.assertEqual(self.item(b"BODY.PEEK[HEADER.FIELDS (SUBJECT)]<9.7>",
                                   b"BODY[HEADER.FIELDS (SUBJECT)]<9>"), b"structu")
        _, done = self.cmd(b"FETCH 1 (BODY.PEEK[]<0.0>)")
        self.assertRegex(done, rb" BAD ")

    def test_binary(self):
        """RFC 3516: the content decoded; literal8 when it holds a NUL;
        sizes; an encoding we cannot undo is NO [UNKNOWN-CTE]."""
        dec = "caf\u00e9 line one\r\nline two joined".encode()
        self.assertEqual(self.item(b"BINARY.PEEK[1]", b"BINARY[1]"), dec)
        data, _ = self.cmd(b"FETCH 1 (BINARY.PEEK[2])")
        self.assertIn(b"BINARY[2] ~{10}\r\n" + bytes(range(10)), data)
        data, _ = self.cmd(b"FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[3.1])")
        self.assertIn(b"BINARY.SIZE[1] %d BINARY.SIZE[2] 10 BINARY.SIZE[3.1] 10"
                      % len(dec), data)
        self.assertEqual(self.item(b"BINARY.PEEK[2]<3.4>", b"BINARY[2]<3>"), bytes([3, 4, 5, 6]))
        data, done = self.cmd(b"FETCH 1 (BINARY.PEEK[4])")
        self.assertIn(b"BINARY[4] NIL", data)
        self.assertRegex(done, rb"^t\d+ NO \[UNKNOWN-CTE\] ")
        _, done = self.cmd(b"FETCH 1 (BINARY.PEEK[1.MIME])")
        self.assertRegex(done, rb" BAD ")

    def test_envelope_and_bodystructure(self):
        """ENVELOPE and BODYSTRUCTURE written by hand for this message."""
        data, _ = self.cmd(b"FETCH 1 (ENVELOPE)")
        alice = b'(("Alice Example" NIL "alice" "other.test"))'
        self.assertIn(
            b'ENVELOPE ("Thu, 26 Nov 2026 12:00:00 +0000" "structure test" ' + alice +
            b" " + alice + b" " + alice +
            b' ((NIL NIL "bob" "example.test")("Carol" NIL "carol" "example.test"))'
            b' ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL'
            b' "<m1@other.test>")', data)
        lines1 = P1.count(b"\n") + 1
        inner = (b'("TEXT" "PLAIN" NIL NIL NIL "7BIT" 10 1 NIL NIL NIL NIL)')
        inner_env = (b'(NIL "inner" ((NIL NIL "inner" "other.test")) '
                     b'((NIL NIL "inner" "other.test")) ((NIL NIL "inner" "other.test")) '
                     b'NIL NIL NIL NIL NIL)')
        inner_env = inner_env.replace(b'((NIL NIL "inner"', b'(("Inner" NIL "inner"')
        p3 = P3_HDR + b"inner body"
        want = (b'BODYSTRUCTURE ('
                b'("TEXT" "PLAIN" ("charset" "utf-8") NIL NIL "QUOTED-PRINTABLE" %d %d'
                b' NIL NIL NIL NIL)'
                b'("APPLICATION" "OCTET-STREAM" ("name" "bin.dat") NIL NIL "BASE64" 16'
                b' NIL ("ATTACHMENT" ("filename" "bin.dat")) NIL NIL)'
                b'("MESSAGE" "RFC822" NIL NIL NIL "7BIT" %d %s %s %d NIL NIL NIL NIL)'
                b'("TEXT" "PLAIN" NIL NIL NIL "X-UUENCODE" %d 2 NIL NIL NIL NIL)'
                b' "MIXED" ("boundary" "outer") NIL NIL NIL)'
                % (len(P1), lines1, len(p3), inner_env, inner, p3.count(b"\n") + 1,
                   len(b"begin 644 x\r\nend")))
        data, _ = self.cmd(b"FETCH 1 (BODYSTRUCTURE)")
        self.assertIn(want, data)
        # BODY: the same without extension data
        data, _ = self.cmd(b"FETCH 1 (BODY)")
        self.assertIn(b'BODY (("TEXT" "PLAIN" ("charset" "utf-8") NIL NIL '
                      b'"QUOTED-PRINTABLE" %d %d)' % (len(P1), lines1), data)
        self.assertIn(b' "MIXED"))', data)

    def test_rfc822_forms_and_seen(self):
        """RFC822.HEADER peeks; RFC822.TEXT and RFC822 set \\Seen, like
        BODY[] and BINARY[] (and FLAGS come with them)."""
        data, _ = self.cmd(b"FETCH 1 (RFC822.HEADER RFC822.SIZE)")
        self.assertIn(b"RFC822.HEADER {%d}" % (len(self.full) - len(TEXT)), data)
        self.assertIn(b"RFC822.SIZE %d" % len(self.full), data)
        self.assertNotIn(b"Seen", data)
        self.cmd(b"STORE 1 -FLAGS.SILENT (\\Seen)")
        data, _ = self.cmd(b"FETCH 1 (RFC822.TEXT)")
        self.assertIn(b"RFC822.TEXT {%d}\r\n" % len(TEXT) + TEXT, data)
        self.assertIn(b"\\Seen", data)
        self.cmd(b"STORE 1 -FLAGS.SILENT (\\Seen)")
        data, _ = self.cmd(b"FETCH 1 (BINARY[1])")
        self.assertIn(b"\\Seen", data)
        self.cmd(b"STORE 1 -FLAGS.SILENT (\\Seen)")
        data, _ = self.cmd(b"FETCH 1 RFC822")
        self.assertIn(b"RFC822 {%d}\r\n" % len(self.full) + self.full, data)
        self.assertIn(b"\\Seen", data)
        data, _ = self.cmd(b"FETCH 1 (FLAGS BINARY.SIZE[1])")
        self.cmd(b"STORE 1 -FLAGS.SILENT (\\Seen)")
        data, _ = self.cmd(b"FETCH 1 FULL")
        self.assertRegex(data, rb"FLAGS \(\) INTERNALDATE \"[^\"]+\" RFC822.SIZE \d+ "
                               rb"ENVELOPE \(.*\) BODY \(")


class Content(ContentBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class ContentPlainBuild(ContentBase, unittest.TestCase):
    build = PLAIN or BUILD
