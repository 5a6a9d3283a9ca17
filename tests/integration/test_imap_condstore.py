"""CONDSTORE and QRESYNC (RFC 7162; issue 9): MODSEQ per message and
HIGHESTMODSEQ per mailbox from the index, FETCH MODSEQ and CHANGEDSINCE,
STORE UNCHANGEDSINCE with MODIFIED, SEARCH MODSEQ, STATUS HIGHESTMODSEQ,
ENABLE; QRESYNC: SELECT (QRESYNC ...) with VANISHED (EARLIER) and the
changed messages after changes made by a second connection, VANISHED
instead of EXPUNGE, UID FETCH (CHANGEDSINCE n VANISHED), [CLOSED]; the
values survive a restart of the server and never go backwards."""

import os
import re
import smtplib
import unittest

from sealpost_test import BUILD, ImapRaw as Raw, Instance

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
MSG = (b"From: a@other.test\r\nTo: cs@example.test\r\n"
       b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\nSubject: modseq %d\r\n\r\nbody\r\n")


def modseqs(lines):
    """{uid: modseq} of the FETCH lines that carry both."""
    out = {}
    for ln in lines:
        m = re.search(rb"UID (\d+).*MODSEQ \((\d+)\)", ln)
        if m:
            out[int(m.group(1))] = int(m.group(2))
    return out


def code(lines, name):
    for ln in lines:
        m = re.match(rb"\* OK \[%s (\d+)\]" % name.encode(), ln)
        if m:
            return int(m.group(1))
    return None


class CondstoreBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("imap-condstore", build=cls.build,
                            extra_conf=["instance-type test", "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.pw = cls.inst.demo_password

    @classmethod
    def tearDownClass(cls):
        cls.inst.finish()

    def user(self, name, messages):
        addr = "%s@example.test" % name
        self.inst.add_user(addr)
        self.deliver(addr, messages)
        return addr

    def deliver(self, addr, n, first=0):
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            for i in range(n):
                s.sendmail("a@other.test", [addr], MSG % (first + i))

    def raw(self, addr):
        r = Raw(self.inst, addr, self.pw)
        self.addCleanup(r.close)
        return r

    def test_condstore(self):
        addr = self.user("cs", 3)
        a = self.raw(addr)
        got, done = a.cmd("CAPABILITY")
        self.assertIn(b" CONDSTORE QRESYNC", got[0])
        # without CONDSTORE: no HIGHESTMODSEQ
        got, done = a.cmd("SELECT INBOX")
        self.assertIsNone(code(got, "HIGHESTMODSEQ"))
        got, done = a.cmd("SELECT INBOX (CONDSTORE)")
        h0 = code(got, "HIGHESTMODSEQ")
        self.assertGreater(h0, 0)
        got, done = a.cmd("UID FETCH 1:* (FLAGS MODSEQ)")
        first = modseqs(got)
        self.assertEqual(sorted(first), [1, 2, 3])
        self.assertEqual(max(first.values()), h0)
        # a STORE moves the message's modseq past every other
        got, done = a.cmd("STORE 1 +FLAGS (\\Flagged)")
        m1 = int(re.search(rb"MODSEQ \((\d+)\)", got[0]).group(1))
        self.assertGreater(m1, h0)
        self.assertRegex(got[0], rb"^\* 1 FETCH \(FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$")
        # CHANGEDSINCE: only what changed, with its MODSEQ
        got, done = a.cmd("FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % h0)
        self.assertEqual(got, [b"* 1 FETCH (FLAGS (\\Flagged) MODSEQ (%d))" % m1])
        self.assertEqual(a.cmd("STATUS Archive (HIGHESTMODSEQ)")[0][0],
                         b'* STATUS "Archive" (HIGHESTMODSEQ 1)')
        got, done = a.cmd("SEARCH MODSEQ %d" % (h0 + 1))
        self.assertEqual(got, [b"* SEARCH 1 (MODSEQ %d)" % m1])
        got, done = a.cmd('SEARCH MODSEQ "/flags/\\\\flagged" all %d' % (h0 + 1))
        self.assertEqual(got, [b"* SEARCH 1 (MODSEQ %d)" % m1])
        got, done = a.cmd("SEARCH RETURN (ALL) MODSEQ 1")
        self.assertRegex(got[0], rb"ALL 1:3 MODSEQ %d$" % m1)
        # another connection changes message 2 after our m1
        b = self.raw(addr)
        b.cmd("SELECT INBOX")
        b.cmd("STORE 2 +FLAGS.SILENT (\\Answered)")
        # conditional: 2 changed since m1, 1 and 3 did not
        got, done = a.cmd("STORE 1:3 (UNCHANGEDSINCE %d) +FLAGS (\\Seen)" % m1)
        self.assertEqual(done, b"OK [MODIFIED 2] Conditional STORE failed")
        self.assertEqual([l.split(b" (FLAGS")[0] for l in got if b"FETCH (FLAGS (\\Flagged \\Seen" in l
                          or b"FETCH (FLAGS (\\Seen" in l], [b"* 1 FETCH", b"* 3 FETCH"])
        got, done = a.cmd("FETCH 2 (FLAGS)")
        self.assertNotIn(b"\\Seen", b"".join(got))
        # UID STORE: MODIFIED by UID; .SILENT still says the MODSEQ
        got, done = a.cmd("UID STORE 1:3 (UNCHANGEDSINCE 0) +FLAGS (\\Draft)")
        self.assertEqual((got, done), ([], b"OK [MODIFIED 1:3] Conditional STORE failed"))
        got, done = a.cmd("UID STORE 3 +FLAGS.SILENT (\\Draft)")
        self.assertRegex(got[0], rb"^\* 3 FETCH \(UID 3 MODSEQ \(\d+\)\)$")
        # the other connection hears of it with the MODSEQ once it asks
        got, done = b.cmd("FETCH 3 (MODSEQ)")
        self.assertRegex(b"".join(got), rb"MODSEQ \(\d+\)")
        got, done = b.cmd("NOOP")
        for bad in ("FETCH 1 (FLAGS) (CHANGEDSINCE 0)", "FETCH 1 (FLAGS) (CHANGEDSINCE x)",
                    "FETCH 1 (FLAGS) (CHANGEDSINCE 99999999999999999999)",
                    "UID FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)",
                    "STORE 1 (UNCHANGEDSINCE -1) +FLAGS (\\Seen)",
                    "SEARCH MODSEQ", "SELECT INBOX (QRESYNC (1 1))"):
            got, done = a.cmd(bad)
            self.assertTrue(done.startswith(b"BAD"), (bad, done))

    def test_qresync(self):
        addr = self.user("qr", 5)
        a = self.raw(addr)
        got, done = a.cmd("ENABLE QRESYNC")
        self.assertEqual(got, [b"* ENABLED CONDSTORE QRESYNC"])
        got, done = a.cmd("ENABLE QRESYNC CONDSTORE")
        self.assertEqual(got, [b"* ENABLED"])
        got, done = a.cmd("SELECT INBOX")
        uv = code(got, "UIDVALIDITY")
        h = code(got, "HIGHESTMODSEQ")
        a.close()
        # meanwhile, elsewhere: 2 and 4 expunged, 3 flagged, one new
        b = self.raw(addr)
        b.cmd("SELECT INBOX")
        b.cmd("UID STORE 2,4 +FLAGS.SILENT (\\Deleted)")
        b.cmd("UID EXPUNGE 2,4")
        b.cmd("UID STORE 3 +FLAGS.SILENT (\\Flagged)")
        self.deliver(addr, 1, 10)
        b.cmd("NOOP")
        # back: one round trip says everything
        a = self.raw(addr)
        a.cmd("ENABLE QRESYNC")
        got, done = a.cmd("SELECT INBOX (QRESYNC (%d %d))" % (uv, h))
        self.assertTrue(done.startswith(b"OK [READ-WRITE]"), done)
        self.assertIn(b"* VANISHED (EARLIER) 2,4", got)
        changed = modseqs(got)
        self.assertEqual(sorted(changed), [3, 6])
        self.assertIn(b"* 2 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (%d))" % changed[3], got)
        newh = code(got, "HIGHESTMODSEQ")
        self.assertGreaterEqual(newh, max(changed.values()))
        # the UIDs it knows limit VANISHED; [CLOSED] before the new one
        got, done = a.cmd("SELECT INBOX (QRESYNC (%d %d 1:3))" % (uv, h))
        self.assertEqual(got[0], b"* OK [CLOSED] Previous mailbox closed")
        self.assertIn(b"* VANISHED (EARLIER) 2", got)
        # with the sequence match data too, checked and not needed
        got, done = a.cmd("SELECT INBOX (QRESYNC (%d %d 1:5 (1:3 1:3)))" % (uv, h))
        self.assertIn(b"* VANISHED (EARLIER) 2,4", got)
        # another UIDVALIDITY: nothing to resync from
        got, done = a.cmd("SELECT INBOX (QRESYNC (%d %d))" % (uv + 1, h))
        self.assertFalse([l for l in got if b"VANISHED" in l or b"FETCH" in l], got)
        # UID FETCH ... VANISHED: the expunged ones within the set
        got, done = a.cmd("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % h)
        self.assertEqual(got[0], b"* VANISHED (EARLIER) 2,4")
        self.assertEqual(sorted(modseqs(got)), [3, 6])
        got, done = a.cmd("UID FETCH 3:5 (FLAGS) (CHANGEDSINCE %d VANISHED)" % h)
        self.assertEqual(got[0], b"* VANISHED (EARLIER) 4")
        # while selected: VANISHED instead of EXPUNGE, flags with UID
        b.cmd("UID STORE 1 +FLAGS.SILENT (\\Deleted)")
        b.cmd("UID STORE 5 +FLAGS.SILENT (\\Seen)")
        b.cmd("UID EXPUNGE 1")
        got, done = a.cmd("NOOP")
        self.assertIn(b"* VANISHED 1", got)
        self.assertFalse([l for l in got if l.endswith(b"EXPUNGE")], got)
        self.assertTrue([l for l in got if re.match(rb"\* \d+ FETCH \(UID 5 FLAGS \(\\Seen\) "
                                                    rb"MODSEQ \(\d+\)\)", l)], got)
        got, done = a.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
        got, done = a.cmd("EXPUNGE")
        self.assertEqual(got, [b"* VANISHED 3"])

    def test_restart(self):
        """The modseqs and the expunge history are on disk: after a
        restart a client resyncs from where it was, and the next change
        is higher than any before."""
        inst = Instance("imap-condstore-restart", build=self.build,
                        extra_conf=["instance-type test", "kdf-strength test"]).start()
        try:
            inst.wait_services_ready()
            addr = "rs@example.test"
            inst.add_user(addr)
            with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as s:
                s.ehlo("client.test")
                for i in range(3):
                    s.sendmail("a@other.test", [addr], MSG % i)
            pw = inst.demo_password
            a = Raw(inst, addr, pw)
            a.cmd("ENABLE QRESYNC")
            got, done = a.cmd("SELECT INBOX")
            uv, h = code(got, "UIDVALIDITY"), code(got, "HIGHESTMODSEQ")
            a.cmd("UID STORE 2 +FLAGS.SILENT (\\Deleted)")
            a.cmd("UID EXPUNGE 2")
            got, done = a.cmd("UID STORE 3 +FLAGS (\\Flagged)")
            m3 = modseqs(got)[3]
            a.close()
            inst.stop()
            inst.start()
            inst.wait_services_ready()
            a = Raw(inst, addr, pw)
            a.cmd("ENABLE QRESYNC")
            got, done = a.cmd("SELECT INBOX (QRESYNC (%d %d))" % (uv, h))
            self.assertEqual(code(got, "UIDVALIDITY"), uv)
            self.assertIn(b"* VANISHED (EARLIER) 2", got)
            self.assertEqual(modseqs(got), {3: m3})
            h2 = code(got, "HIGHESTMODSEQ")
            self.assertGreaterEqual(h2, m3)
            got, done = a.cmd("UID STORE 1 +FLAGS (\\Seen)")
            self.assertGreater(modseqs(got)[1], h2)
            a.close()
            inst.stop()
            self.assertFalse(inst.bad_log_lines())
        finally:
            inst.stop()
            inst.cleanup()


class Condstore(CondstoreBase, unittest.TestCase):
    pass


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class CondstorePlainBuild(CondstoreBase, unittest.TestCase):
    build = PLAIN


if __name__ == "__main__":
    unittest.main()
