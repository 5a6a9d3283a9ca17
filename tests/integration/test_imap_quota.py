"""IMAP QUOTA (RFC 9208) over the account's quota in users.db (issue 8):
one quota root "" with STORAGE in KiB; APPEND reserves and a full
mailbox answers NO [OVERQUOTA] storing nothing; SMTP delivery and APPEND
share the one counter; EXPUNGE, CLOSE and DELETE give back what they
free (a blob shared by COPY only when its last copy goes, MOVE frees
nothing), so a mailbox that was full takes mail again; an account
without a quota has no quota root; STATUS DELETED, DELETED-STORAGE and
SIZE."""

import imaplib
import os
import re
import smtplib
import unittest

from sealpost_test import BUILD, Instance

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")


def message(i, size):
    head = (b"From: a@other.test\r\nTo: q@example.test\r\n"
            b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\nSubject: quota %d\r\n\r\n" % i)
    line = b"x" * 78 + b"\r\n"
    return head + line * max(0, (size - len(head)) // len(line))


class QuotaBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("imap-quota", build=cls.build,
                            extra_conf=["instance-type test", "kdf-strength test"]).start()
        cls.inst.wait_services_ready()

    @classmethod
    def tearDownClass(cls):
        cls.inst.finish()

    def user(self, name, quota=None):
        addr = "%s@example.test" % name
        self.inst.add_user(addr, quota)
        m = self.inst.imaps(addr)
        self.addCleanup(m.logout)
        return addr, m

    def smtp(self, addr, msg):
        """Deliver over SMTP: None when accepted, else the refusal."""
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            try:
                s.sendmail("a@other.test", [addr], msg)
            except smtplib.SMTPResponseException as e:
                return e.smtp_code, e.smtp_error.decode()
            except smtplib.SMTPRecipientsRefused as e:
                return list(e.recipients.values())[0]
        return None

    def storage(self, m):
        """(used, limit) in KiB from GETQUOTA "", or None without a root."""
        typ, data = m._simple_command("GETQUOTA", '""')
        if typ != "OK":
            return None
        _, q = m._untagged_response(typ, data, "QUOTA")
        g = re.match(rb'^"" \(STORAGE (\d+) (\d+)\)$', q[0])
        self.assertIsNotNone(g, q)
        return int(g.group(1)), int(g.group(2))

    def sizes(self, m, box):
        """RFC822.SIZE of every message of box."""
        m.select(box, readonly=True)
        typ, data = m.fetch("1:*", "(RFC822.SIZE)")
        m.unselect()
        return [int(re.search(rb"RFC822\.SIZE (\d+)", d).group(1))
                for d in data if d]

    def test_capability_and_root(self):
        addr, m = self.user("root", "100K")
        caps = m.capability()[1][0].decode().split()
        for c in ("QUOTA", "QUOTA=RES-STORAGE", "STATUS=SIZE"):
            self.assertIn(c, caps)
        self.assertIsNone(self.smtp(addr, message(1, 5000)))
        self.assertIsNone(self.smtp(addr, message(2, 7000)))
        typ, (root, quota) = m.getquotaroot("inbox")
        self.assertEqual(typ, "OK")
        self.assertEqual(root, [b'"INBOX" ""'])
        used = sum(self.sizes(m, "INBOX"))
        self.assertEqual(quota, [b'"" (STORAGE %d 100)' % ((used + 1023) // 1024)])
        self.assertEqual(self.storage(m), ((used + 1023) // 1024, 100))
        # every mailbox is under the one root
        typ, (root, quota) = m.getquotaroot("Archive")
        self.assertEqual(root, [b'"Archive" ""'])
        typ, data = m._simple_command("GETQUOTAROOT", "Nonesuch")
        self.assertEqual((typ, data[0][:13]), ("NO", b"[NONEXISTENT]"))
        typ, data = m._simple_command("GETQUOTA", "other")
        self.assertEqual((typ, data[0][:13]), ("NO", b"[NONEXISTENT]"))
        typ, data = m._simple_command("SETQUOTA", '""', "(STORAGE 1000000)")
        self.assertEqual((typ, data[0][:8]), ("NO", b"[NOPERM]"))
        self.assertEqual(self.storage(m), ((used + 1023) // 1024, 100))
        with self.assertRaises(imaplib.IMAP4.error):
            m._simple_command("GETQUOTA")

    def test_append_over_quota(self):
        """APPEND reserves: the one that does not fit is NO [OVERQUOTA]
        and stores nothing; SMTP is then refused too."""
        addr, m = self.user("append", "20K")
        msg = message(3, 6000)
        for _ in range(3):
            typ, data = m.append("INBOX", None, None, msg)
            self.assertEqual(typ, "OK", data)
        typ, data = m.append("INBOX", None, None, msg)
        self.assertEqual(typ, "NO")
        self.assertTrue(data[0].startswith(b"[OVERQUOTA]"), data)
        self.assertEqual(len(self.sizes(m, "INBOX")), 3)
        used = sum(self.sizes(m, "INBOX"))
        self.assertEqual(self.storage(m), ((used + 1023) // 1024, 20))
        code = self.smtp(addr, msg)
        self.assertIsNotNone(code)
        self.assertEqual(code[0], 452)
        # a small one still fits
        self.assertEqual(m.append("INBOX", None, None, message(4, 500))[0], "OK")

    def test_expunge_gives_quota_back(self):
        """A full mailbox (SMTP says 452) takes mail again after EXPUNGE;
        a copied message frees its bytes only when its last copy goes;
        MOVE frees nothing; DELETE of a mailbox frees its messages."""
        addr, m = self.user("back", "28K")
        n = 0
        while self.smtp(addr, message(n, 6000)) is None:
            n += 1
            self.assertLess(n, 10)
        self.assertEqual(n, 4)
        full = self.storage(m)
        # COPY shares the blob: nothing more is used
        m.select("INBOX")
        self.assertEqual(m.copy("1", "Archive")[0], "OK")
        self.assertEqual(self.storage(m), full)
        # the INBOX copy goes: the Archive copy still holds the bytes
        m.store("1", "+FLAGS", "(\\Deleted)")
        m.expunge()
        self.assertEqual(self.storage(m), full)
        # MOVE: still the same bytes
        self.assertEqual(m._simple_command("MOVE", "1", "Trash")[0], "OK")
        self.assertEqual(self.storage(m), full)
        # the last copy goes: given back, SMTP takes mail again
        m.select("Archive")
        m.store("1:*", "+FLAGS", "(\\Deleted)")
        m.close()
        freed = self.storage(m)
        self.assertLess(freed[0], full[0])
        self.assertIsNone(self.smtp(addr, message(9, 5000)))
        # DELETE of a mailbox frees its messages
        self.assertEqual(m.create("Old")[0], "OK")
        m.select("INBOX")
        self.assertEqual(m._simple_command("MOVE", "1:*", "Old")[0], "OK")
        m.unselect()
        before = self.storage(m)
        self.assertEqual(m.delete("Old")[0], "OK")
        after = self.storage(m)
        remaining = sum(self.sizes(m, "Trash"))
        self.assertLess(after[0], before[0])
        self.assertEqual(after[0], (remaining + 1023) // 1024)

    def test_status_deleted(self):
        addr, m = self.user("status", "1M")
        for i in range(3):
            self.assertIsNone(self.smtp(addr, message(i, 3000 + 1000 * i)))
        sizes = self.sizes(m, "INBOX")
        m.select("INBOX")
        m.store("1,3", "+FLAGS", "(\\Deleted)")
        m.unselect()
        typ, data = m.status("INBOX", "(DELETED DELETED-STORAGE SIZE MESSAGES)")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], b'"INBOX" (DELETED 2 DELETED-STORAGE %d SIZE %d '
                         b'MESSAGES 3)' % ((sizes[0] + sizes[2] + 1023) // 1024,
                                           sum(sizes)))

    def test_no_quota(self):
        """Without a quota there is no quota root, and mail flows."""
        addr, m = self.user("free")
        self.assertIsNone(self.smtp(addr, message(1, 2000)))
        typ, (root, quota) = m.getquotaroot("INBOX")
        self.assertEqual((typ, root, quota), ("OK", [b'"INBOX"'], [None]))
        self.assertIsNone(self.storage(m))
        self.assertEqual(m.append("INBOX", None, None, message(2, 2000))[0], "OK")


class QuotaTest(QuotaBase, unittest.TestCase):
    pass


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class QuotaPlainTest(QuotaBase, unittest.TestCase):
    build = PLAIN


if __name__ == "__main__":
    unittest.main()
