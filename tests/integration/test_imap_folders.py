"""IMAP mailbox management (issue 8, first part): CREATE with missing
parents and SPECIAL-USE (RFC 6154), DELETE (not with children, not the
six every account has, the selected one), RENAME with its children and of
INBOX (its messages move, RFC 3501 6.3.5), SUBSCRIBE/UNSUBSCRIBE and LSUB,
\\HasChildren/\\HasNoChildren in LIST, modified UTF-7 names kept as sent,
and hostile names (path traversal, empty components, wildcards, 8-bit,
bad modified UTF-7) refused without anything created."""

import imaplib
import os
import smtplib
import unittest

from sealpost_test import BUILD, Instance, list_mailboxes

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
MSG = (b"From: a@other.test\r\nTo: f@example.test\r\n"
       b"Date: Thu, 26 Nov 2026 12:00:00 +0000\r\nSubject: folders %d\r\n\r\nbody\r\n")


class FoldersBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("imap-folders", build=cls.build,
                            extra_conf=["instance-type test", "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.pw = cls.inst.demo_password

    @classmethod
    def tearDownClass(cls):
        cls.inst.finish()

    def user(self, name, messages=0):
        addr = "%s@example.test" % name
        self.inst.add_user(addr)
        if messages:
            with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
                s.ehlo("client.test")
                for i in range(messages):
                    s.sendmail("a@other.test", [addr], MSG % i)
        return self.inst.imaps(addr)

    @staticmethod
    def names(m, lsub=False):
        return list_mailboxes(m, lsub=lsub)

    def test_create_hierarchy_and_children(self):
        m = self.user("create")
        self.assertEqual(m.create("Projects/2026/Q1")[0], "OK")
        n = self.names(m)
        self.assertIn("\\HasChildren", n["Projects"])
        self.assertIn("\\HasChildren", n["Projects/2026"])
        self.assertIn("\\HasNoChildren", n["Projects/2026/Q1"])
        self.assertIn("\\HasNoChildren", n["Archive"])
        typ, data = m.create("Projects")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[ALREADYEXISTS]", data[0])
        for name in ("INBOX", "inbox"):
            self.assertIn(b"[ALREADYEXISTS]", m.create(name)[1][0])
        self.assertEqual(m.create("Trailing/")[0], "OK")      # "Trailing"
        self.assertIn("Trailing", self.names(m))
        self.assertEqual(m.create("inbox/Sub")[0], "OK")       # under INBOX
        self.assertIn("INBOX/Sub", self.names(m))
        self.assertEqual(m.create("Caf&AOk-")[0], "OK")        # modified UTF-7
        self.assertIn("Caf&AOk-", self.names(m))
        # a message in a new folder, through APPEND and SELECT
        self.assertEqual(m.append("Projects/2026/Q1", None, None, MSG % 1)[0], "OK")
        self.assertEqual(m.select("Projects/2026/Q1"), ("OK", [b"1"]))
        m.logout()

    def test_hostile_names(self):
        m = self.user("hostile")
        before = self.names(m)
        folder = os.path.join(self.inst.dir, "data", "mail")
        files = sorted(os.listdir(folder))
        for name in ("../etc", "a/../b", "a/./b", "/abs", "a//b", "..", ".", "x*", "x%y",
                     "bad&name", "&AGE", "&AGE", "&-&AGEAAA-x&Z-"):
            typ, data = m.create('"%s"' % name)
            self.assertEqual(typ, "NO", name)
            self.assertIn(b"[CANNOT]", data[0], name)
        # 8-bit (a literal: quoted strings cannot carry it) and control bytes
        m.literal = "caf\u00e9".encode()
        typ, data = m._simple_command("CREATE")
        self.assertEqual(typ, "NO")
        with self.assertRaises(imaplib.IMAP4.error):
            m.create('"a\\x"')                                 # bad escape: BAD
        typ, data = m.create('"' + "x" * 300 + '"')           # too long: NO
        self.assertEqual((typ, data), ("NO", [b"[CANNOT] Mailbox name too long"]))
        with self.assertRaises(imaplib.IMAP4.error):           # longer than any: BAD
            m.create('"' + "x" * 800 + '"')
        self.assertEqual(self.names(m), before)
        self.assertEqual(sorted(os.listdir(folder)), files)
        m.logout()

    def test_international_names(self):
        """Names are kept in UTF-8 and spoken in modified UTF-7 (RFC 3501
        5.1.3): what a client creates comes back in LIST, LSUB, STATUS and
        GETQUOTAROOT as it sent it, and SELECT, APPEND, COPY, RENAME and
        DELETE find it by that name; a non-canonical spelling of a name
        (ASCII encoded, two runs side by side, bits left over) is refused
        rather than taken for another mailbox, and finds nothing."""
        m = self.user("intl", messages=1)
        names = ["Caf&AOk-", "&ZeVnLIqe-/&U,BTFw-", "R&-D", "&2D3eAA-"]  # emoji
        for n in names:
            self.assertEqual(m.create('"%s"' % n)[0], "OK", n)
        listed = self.names(m)
        for n in names + ["&ZeVnLIqe-"]:
            self.assertIn(n, listed)
        self.assertIn(n, self.names(m, lsub=True))
        self.assertEqual(m.status('"Caf&AOk-"', "(MESSAGES)"),
                         ("OK", [b'"Caf&AOk-" (MESSAGES 0)']))
        typ, data = m._simple_command("GETQUOTAROOT", '"&ZeVnLIqe-/&U,BTFw-"')
        self.assertEqual(m.untagged_responses.pop("QUOTAROOT"), [b'"&ZeVnLIqe-/&U,BTFw-"'])
        self.assertEqual(m.append('"Caf&AOk-"', None, None, MSG % 7)[0], "OK")
        m.select("INBOX")
        self.assertEqual(m.copy("1", '"&2D3eAA-"')[0], "OK")
        self.assertEqual(m.select('"&2D3eAA-"'), ("OK", [b"1"]))
        self.assertEqual(m.rename('"Caf&AOk-"', '"Caf&AOk-s/2026"')[0], "OK")
        self.assertEqual(m.status('"Caf&AOk-s/2026"', "(MESSAGES)"),
                         ("OK", [b'"Caf&AOk-s/2026" (MESSAGES 1)']))
        self.assertEqual(m.list('""', '"Caf&AOk-s/%"'),
                         ("OK", [b'(\\HasNoChildren) "/" "Caf&AOk-s/2026"']))
        # one name, one spelling: these are not "Caf\u00e9" (or anything)
        for bad in ("Caf&AOkAZQ-", "&AGE-", "Caf&AOk-&AOk-", "Caf&AOl-"):
            typ, data = m.create('"%s"' % bad)
            self.assertEqual(typ, "NO", bad)
            self.assertIn(b"[CANNOT] Mailbox names are modified UTF-7", data[0])
            typ, data = m.select('"%s"' % bad)
            self.assertEqual(typ, "NO", bad)
            self.assertEqual(m.list('""', '"%s"' % bad), ("OK", [None]))
        self.assertEqual(m.delete('"&ZeVnLIqe-/&U,BTFw-"')[0], "OK")
        self.assertNotIn("&ZeVnLIqe-/&U,BTFw-", self.names(m))
        m.logout()

    def test_special_use_on_create(self):
        m = self.user("special")
        typ, data = m._simple_command("CREATE", "Sent2", "(USE (\\Sent))")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[USEATTR]", data[0])              # \Sent is taken
        typ, data = m._simple_command("CREATE", "Imp", "(USE (\\Important))")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[USEATTR]", data[0])              # not one we have
        self.assertNotIn("Sent2", self.names(m))
        m.logout()

    def test_delete(self):
        m = self.user("delete", messages=1)
        m.create("Keep/Child")
        typ, data = m.delete("Keep")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[INUSE]", data[0])
        for name in ("INBOX", "Trash", "Archive"):
            typ, data = m.delete(name)
            self.assertEqual(typ, "NO", name)
            self.assertIn(b"[CANNOT]", data[0])
        typ, data = m.delete("Nope")
        self.assertIn(b"[NONEXISTENT]", data[0])
        # a folder with messages, selected: deleted, messages gone
        m.append("Keep/Child", None, None, MSG % 5)
        m.select("Keep/Child")
        self.assertEqual(m.delete("Keep/Child")[0], "OK")
        with self.assertRaises(imaplib.IMAP4.error):
            m.fetch("1", "FLAGS")                              # nothing selected
        self.assertEqual(m.delete("Keep/")[0], "OK")
        self.assertNotIn("Keep", self.names(m))
        self.assertEqual(m.status("INBOX", "(MESSAGES)")[1], [b'"INBOX" (MESSAGES 1)'])
        m.logout()

    def test_rename(self):
        m = self.user("rename", messages=2)
        m.create("Projects/2026")
        m.append("Projects/2026", None, None, MSG % 7)
        self.assertEqual(m.rename("Projects", "Work/Old")[0], "OK")
        n = self.names(m)
        self.assertNotIn("Projects", n)
        self.assertNotIn("Projects/2026", n)
        self.assertIn("Work", n)
        self.assertIn("Work/Old/2026", n)
        self.assertEqual(m.select("Work/Old/2026"), ("OK", [b"1"]))   # UIDs kept
        m.close()
        m.create("Other")
        self.assertIn(b"[ALREADYEXISTS]", m.rename("Other", "Work")[1][0])
        self.assertIn(b"[CANNOT]", m.rename("Work", "Work/Inner")[1][0])
        self.assertIn(b"[CANNOT]", m.rename("Archive", "Archive2")[1][0])
        self.assertIn(b"[NONEXISTENT]", m.rename("Nope", "Nope2")[1][0])
        self.assertIn(b"[CANNOT]", m.rename("Other", "../x")[1][0])
        # RENAME INBOX: the messages move, INBOX stays, empty
        self.assertEqual(m.rename("INBOX", '"Old Inbox"')[0], "OK")
        self.assertEqual(m.status("INBOX", "(MESSAGES)")[1], [b'"INBOX" (MESSAGES 0)'])
        self.assertEqual(m.status('"Old Inbox"', "(MESSAGES)")[1],
                         [b'"Old Inbox" (MESSAGES 2)'])
        m.logout()

    def test_subscribe(self):
        m = self.user("subscribe")
        m.create("Lists/imap")
        self.assertEqual(m.subscribe("Lists/imap")[0], "OK")
        self.assertIn("Lists/imap", self.names(m, lsub=True))
        self.assertEqual(m.unsubscribe("Lists/imap")[0], "OK")
        self.assertNotIn("Lists/imap", self.names(m, lsub=True))
        self.assertIn(b"[NONEXISTENT]", m.subscribe("Nope")[1][0])
        m.logout()

    def test_list_extended_and_status(self):
        """RFC 5258 LIST-EXTENDED (selection SUBSCRIBED, RECURSIVEMATCH;
        several patterns; RETURN SUBSCRIBED, CHILDREN, SPECIAL-USE) and
        RFC 5819 LIST-STATUS."""
        m = self.user("listext", messages=2)
        m.create("Lists/imap")
        m.create("Lists/smtp")
        for name in self.names(m):                 # new ones start subscribed
            m.unsubscribe('"%s"' % name)
        m.subscribe("Lists/imap")
        m.subscribe("INBOX")

        def lines(*args):
            tag = m._command("LIST", *args)
            typ, data = m._command_complete("LIST", tag)
            out = m.untagged_responses.pop("LIST", [])
            st = m.untagged_responses.pop("STATUS", [])
            return typ, out, st

        typ, out, _ = lines("(SUBSCRIBED)", '""', '"*"')
        self.assertEqual(sorted(out), [b'(\\HasNoChildren \\Subscribed) "/" "INBOX"',
                                       b'(\\HasNoChildren \\Subscribed) "/" "Lists/imap"'])
        typ, out, _ = lines('""', '("INBOX" "Lists/*")')
        self.assertEqual(sorted(o.split(b'"/" ')[1] for o in out),
                         [b'"INBOX"', b'"Lists/imap"', b'"Lists/smtp"'])
        typ, out, _ = lines("(SUBSCRIBED RECURSIVEMATCH)", '""', '"%"')
        self.assertIn(b'(\\HasChildren) "/" "Lists" ("CHILDINFO" ("SUBSCRIBED"))', out)
        self.assertIn(b'(\\HasNoChildren \\Subscribed) "/" "INBOX"', out)
        typ, out, _ = lines('""', '"Lists/*"', "RETURN", "(SUBSCRIBED CHILDREN)")
        self.assertEqual(sorted(out), [b'(\\HasNoChildren \\Subscribed) "/" "Lists/imap"',
                                       b'(\\HasNoChildren) "/" "Lists/smtp"'])
        typ, out, st = lines('""', '"INBOX"', "RETURN", "(STATUS (MESSAGES UNSEEN))")
        self.assertEqual(out, [b'(\\HasNoChildren) "/" "INBOX"'])
        self.assertEqual(st, [b'"INBOX" (MESSAGES 2 UNSEEN 2)'])
        # RFC 7889 APPENDLIMIT: in CAPABILITY and as a STATUS item
        self.assertIn(b"APPENDLIMIT=52428800", m.capability()[1][0].split())
        self.assertEqual(m.status("INBOX", "(APPENDLIMIT MESSAGES)")[1],
                         [b'"INBOX" (APPENDLIMIT 52428800 MESSAGES 2)'])
        typ, out, _ = lines('""', '"Sent"', "RETURN", "(SPECIAL-USE)")
        self.assertEqual(out, [b'(\\HasNoChildren \\Sent) "/" "Sent"'])
        for bad in (("(RECURSIVEMATCH)", '""', '"*"'), ('""', '"*"', "RETURN", "(BOGUS)"),
                    ('""', '"*"', "RETURN", "(STATUS (NOPE))"), ("(FOO)", '""', '"*"')):
            with self.assertRaises(imaplib.IMAP4.error, msg=bad):
                lines(*bad)
        m.logout()


class Folders(FoldersBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class FoldersPlainBuild(FoldersBase, unittest.TestCase):
    build = PLAIN or BUILD
