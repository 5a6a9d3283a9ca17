"""Logins against real accounts in users.db: sealpostctl creates them
while the server runs; the auth service (which holds users.db open inside
its sandbox) decides; a wrong password is a failed unwrap; an unknown user
costs exactly one KDF too (counted by a test hook, not timed); app
passwords open the same account and a revoked one does not; aliases
resolve; an smtp session can ask auth who a recipient is."""

import imaplib
import os
import re
import subprocess
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from sealpost_test import BUILD, Instance, connect, read_line

HOOKS = "#define SP_TEST_HOOKS 1" in open(os.path.join(BUILD, "config.h")).read()
PW = "correct horse battery"


PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")


def sealpostctl(inst, *args, inp=None, check=True):
    r = subprocess.run([os.path.join(inst.build, "sealpostctl"), "-c", inst.conf]
                       + list(args), input=inp.encode() if inp else None,
                       capture_output=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("sealpostctl %s: %s" % (args, r.stderr))
    return r


class AuthAccountsBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("authdb", build=cls.build, extra_conf=["instance-type test",
                                                   "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.ctl("domain", "add", "corp.test")
        cls.ctl("user", "add", "alice@corp.test", inp=PW + "\n")
        cls.ctl("user", "add", "bob@corp.test", inp="another long secret\n")
        cls.ctl("alias", "add", "sales@corp.test", "alice@corp.test")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        bad = cls.inst.bad_log_lines()
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    @classmethod
    def ctl(cls, *args, inp=None, check=True):
        return sealpostctl(cls.inst, *args, inp=inp, check=check)

    def login(self, user, pw):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                              ssl_context=self.inst.tls_context(), timeout=30)
        try:
            m.login(user, pw)
        except imaplib.IMAP4.error:
            m.logout()
            return None
        m.xatom("XSPTEST")
        who = m.untagged_responses.pop("XSPTEST")[0].decode()
        m.logout()
        return who

    def kdf_runs(self, at_least=0, lines=0, user=None):
        """The KDF count of auth's log.  Log lines reach the file through
        the master, a moment after the client has its answer: wait until
        the count is at_least, or until lines login lines of user are
        there, before reading it."""
        pat = r"auth event=login user=(\S+) client=\S+ result=\w+ via=\S+ kdf-runs=(\d+)"
        deadline = time.time() + 10
        while True:
            found = re.findall(pat, self.inst.log())
            runs = max((int(r) for _, r in found), default=0)
            mine = sum(1 for u, _ in found if u == user)
            if (runs >= at_least and mine >= lines) or time.time() > deadline:
                return runs
            time.sleep(0.05)

    def test_password_alias_and_failures(self):
        alice = self.login("alice@corp.test", PW)
        self.assertRegex(alice, r"^uid=2\d{5} account=\d+ inbox=0 meta=0 subject=-$")
        self.assertEqual(self.login("sales@corp.test", PW), alice)       # alias
        self.assertEqual(self.login("ALICE@corp.test", PW), alice)       # case
        self.assertIsNone(self.login("alice@corp.test", "wrong password!!"))
        self.assertIsNone(self.login("bob@corp.test", PW))               # not bob's
        self.assertNotEqual(self.login("bob@corp.test", "another long secret"), alice)

    def test_unknown_user_costs_one_kdf(self):
        before = self.kdf_runs()
        self.assertIsNone(self.login("nobody@corp.test", PW))
        self.inst.wait_log(r"user=nobody@corp.test client=127.0.0.1 result=fail via=kdf kdf-runs=%d" % (before + 1))
        # a known user with one credential and a wrong password: also one
        self.assertIsNone(self.login("bob@corp.test", "wrong but long enough"))
        self.inst.wait_log(r"user=bob@corp.test client=127.0.0.1 result=fail via=kdf kdf-runs=%d" % (before + 2))

    def test_app_passwords(self):
        r = self.ctl("user", "app-password", "add", "alice@corp.test", "phone", inp=PW + "\n")
        app = re.search(rb"\b([A-Za-z0-9_-]{20,})\b", r.stdout.split(b"\n")[0] + b" " + r.stdout)
        self.assertIsNotNone(app, r.stdout)
        app = app.group(1).decode()
        alice = self.login("alice@corp.test", PW)
        self.assertEqual(self.login("alice@corp.test", app), alice)
        # a password change keeps app passwords working
        self.ctl("user", "passwd", "alice@corp.test",
                 inp=PW + "\n" + "a brand new password\n" + "a brand new password\n")
        self.assertEqual(self.login("alice@corp.test", app), alice)
        self.assertEqual(self.login("alice@corp.test", "a brand new password"), alice)
        self.assertIsNone(self.login("alice@corp.test", PW))
        self.ctl("user", "app-password", "revoke", "alice@corp.test", "phone")
        self.assertIsNone(self.login("alice@corp.test", app))
        self.ctl("user", "passwd", "alice@corp.test",
                 inp="a brand new password\n" + PW + "\n" + PW + "\n")

    def raw_login(self, user, pw):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                              ssl_context=self.inst.tls_context(), timeout=30)
        try:
            m.login(user, pw)
            m.logout()
            return "OK"
        except imaplib.IMAP4.error as e:
            m.logout()
            return str(e)

    def test_failure_limits_before_the_kdf(self):
        """SECURITY-TESTS T20: after 5 failures for one user from one
        client, even the right password is refused for a while, without a
        KDF run, and the answer is the same for a user that does not
        exist; another user from the same client is not affected."""
        self.ctl("user", "add", "carol@corp.test", inp="carol's long password\n")
        for i in range(5):
            self.assertIn("AUTHENTICATIONFAILED",
                          self.raw_login("carol@corp.test", "wrong guess %d!!" % i))
            self.assertIn("AUTHENTICATIONFAILED",
                          self.raw_login("ghost@corp.test", "wrong guess %d!!" % i))
        runs = self.kdf_runs(lines=5, user="ghost@corp.test")
        limited = self.raw_login("carol@corp.test", "carol's long password")
        self.assertIn("[UNAVAILABLE] Too many failed logins", limited)
        self.assertEqual(self.raw_login("ghost@corp.test", "anything long enough"), limited)
        self.inst.wait_log(r"user=carol@corp.test client=127\.0\.0\.1 result=limited")
        self.assertEqual(self.kdf_runs(), runs)          # no KDF for them
        self.assertEqual(self.raw_login("bob@corp.test", "another long secret"), "OK")

    def test_unlock_cache(self):
        """Five connections with the same password pay one KDF (the
        short-lived unlock cache); a wrong password never comes from it."""
        self.ctl("user", "add", "erin@corp.test", inp="erin's long password\n")
        before = self.kdf_runs()
        who = [self.login("erin@corp.test", "erin's long password") for _ in range(5)]
        self.assertIsNotNone(who[0])
        self.assertEqual(set(who), {who[0]})
        self.inst.wait_log(r"user=erin@corp.test client=127.0.0.1 result=ok via=cache")
        self.assertEqual(self.kdf_runs(lines=5, user="erin@corp.test"), before + 1)
        self.assertIsNone(self.login("erin@corp.test", "erin's long passwore"))
        self.assertEqual(self.kdf_runs(lines=6, user="erin@corp.test"), before + 2)

    def test_parallel_logins(self):
        """Logins at once: the same password shares one KDF; parallel
        wrong guesses are charged when queued, so no more than the limit
        (5 per user and client) ever reach a KDF."""
        self.ctl("user", "add", "frank@corp.test", inp="frank's long password\n")
        self.ctl("user", "add", "grace@corp.test", inp="grace's long password\n")
        before = self.kdf_runs()
        with ThreadPoolExecutor(6) as ex:
            who = list(ex.map(lambda _: self.login("frank@corp.test",
                                                   "frank's long password"), range(6)))
        self.assertIsNotNone(who[0])
        self.assertEqual(set(who), {who[0]})
        self.assertEqual(self.kdf_runs(lines=6, user="frank@corp.test"), before + 1)
        before = self.kdf_runs()
        with ThreadPoolExecutor(12) as ex:
            res = list(ex.map(lambda i: self.raw_login("grace@corp.test",
                                                       "wrong guess %d!!" % i), range(12)))
        self.assertTrue(all("AUTHENTICATIONFAILED" in r or "UNAVAILABLE" in r
                            for r in res), res)
        runs = self.kdf_runs(lines=5, user="grace@corp.test")
        time.sleep(0.3)             # any late KDF line would be there now
        self.assertLessEqual(self.kdf_runs() - before, 5)
        self.assertIn("[UNAVAILABLE]", self.raw_login("grace@corp.test",
                                                      "grace's long password"))

    def test_rcpt_lookup_for_smtp(self):
        with connect(self.inst.port("smtp")) as c:
            read_line(c)
            for addr, found in (("alice@corp.test", 1), ("sales@corp.test", 1),
                                ("postmaster@corp.test", 1), ("ghost@corp.test", 0)):
                c.sendall(b"XSPTEST RCPT " + addr.encode() + b"\r\n")
                reply = read_line(c)
                self.assertRegex(reply, rb"^250 2\.0\.0 rcpt found=%d " % found, addr)


class LocalDeliveryBase:
    """sealpostctl deliver: sealpostctl -> control -> auth (who, quota) ->
    deliver (sealed to the account's public key, durably) -> answer."""

    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("ctldeliver", build=cls.build, extra_conf=["instance-type test",
                                                       "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        sealpostctl(cls.inst, "domain", "add", "small.test")
        sealpostctl(cls.inst, "user", "add", "tiny@small.test", "--quota", "4K",
                    inp=PW + "\n")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        bad = cls.inst.bad_log_lines()
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    def deliver(self, addr, data):
        return subprocess.run([os.path.join(self.build, "sealpostctl"), "-c",
                               self.inst.conf, "deliver", addr], input=data, capture_output=True,
                              timeout=60)

    def new_dir(self, account):
        return os.path.join(self.inst.dir, "data", "mail", str(account), "new")

    def usage(self, addr):
        out = sealpostctl(self.inst, "user", "list").stdout.decode()
        row = [l.split() for l in out.splitlines() if l.startswith(addr + " ")][0]
        return row[4]

    def test_deliver_to_account_and_alias(self):
        marker = b"LOCALMARKER-Zq81"
        for addr in ("demo@example.test", "postmaster@example.test"):
            r = self.deliver(addr, b"Subject: " + marker + b"\r\n\r\nbody " + marker + b"\r\n")
            self.assertEqual(r.returncode, 0, r.stderr)
            m = re.match(rb"delivered to account 1 as ([0-9a-f]{32})\n$", r.stdout)
            self.assertIsNotNone(m, r.stdout)
            path = os.path.join(self.new_dir(1), m.group(1).decode())
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o604)
            self.assertNotIn(marker, open(path, "rb").read())
        self.assertNotIn(marker.decode(), self.inst.log())

    def test_login_imports_what_was_delivered(self):
        """The whole path in the running server: deliver seals to the
        public key; at login auth unwraps the key and hands it to the mail
        process (not through the master), which imports new/ into its
        index inside its sandbox."""
        pw = open(os.path.join(self.inst.dir, "demo-password")).read().strip()
        before = len(os.listdir(self.new_dir(1)))
        # the mail process builds each message's sealed metadata in its
        # jail: GMime decodes the charsets there (gconv mounted read-only)
        subject = "Gr\u00fc\u00dfe \u043f\u0440\u0438\u0432\u0435\u0442"
        head = (b"From: a@b.test\r\nSubject: =?ISO-8859-1?Q?Gr=FC=DFe_?= "
                b"=?KOI8-R?B?0NLJ18XU?=\r\n\r\n")
        for i in range(3):
            self.assertEqual(self.deliver("demo@example.test", head +
                                          os.urandom(70000 + i)).returncode, 0)
        m = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                              ssl_context=self.inst.tls_context(), timeout=30)
        m.login("demo@example.test", pw)
        m.xatom("XSPTEST")
        who = m.untagged_responses.pop("XSPTEST")[0].decode()
        m.logout()
        w = re.match(r"^uid=200001 account=1 inbox=(\d+) meta=(\d+) "
                     r"subject=([0-9a-f]+)$", who)
        self.assertIsNotNone(w, who)
        self.assertGreaterEqual(int(w.group(1)), before + 3)
        self.assertEqual(w.group(2), w.group(1))         # every record opens
        self.assertEqual(bytes.fromhex(w.group(3)).decode(), subject)
        self.assertEqual(os.listdir(self.new_dir(1)), [])          # all imported
        self.inst.wait_log(r"imap-mail event=import account=1 imported=\d+ remaining=0")
        self.inst.wait_log(r'imap-mail event=start account=1 uid=200001 '
                           r'sandbox="landlock=ABI\d+ seccomp=on"')
        self.assertNotRegex(self.inst.log(), r"sandbox violation")

    def test_unknown_recipient_and_bad_address(self):
        r = self.deliver("ghost@example.test", b"x")
        self.assertEqual((r.returncode, r.stderr),
                         (67, b"sealpostctl: ghost@example.test: no such local recipient\n"))
        r = self.deliver("not an address", b"x")
        self.assertEqual(r.returncode, 1)

    def test_quota(self):
        account = int(re.search(r"tiny@small.test +(\d+)",
                                sealpostctl(self.inst, "user", "list").stdout.decode()).group(1))
        before = len(os.listdir(self.new_dir(account)))
        self.assertEqual(self.deliver("tiny@small.test", b"a" * 3000).returncode, 0)
        r = self.deliver("tiny@small.test", b"b" * 3000)          # 6000 > 4 KiB
        self.assertEqual((r.returncode, r.stderr),
                         (75, b"sealpostctl: tiny@small.test: over quota\n"))
        self.assertEqual(len(os.listdir(self.new_dir(account))), before + 1)
        self.assertEqual(self.usage("tiny@small.test"), "3000")
        self.assertEqual(self.deliver("tiny@small.test", b"c" * 1000).returncode, 0)
        self.assertEqual(self.usage("tiny@small.test"), "4000")


@unittest.skipUnless(HOOKS, "needs --enable-test-hooks")
class AuthAccounts(AuthAccountsBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(HOOKS and PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class AuthAccountsPlainBuild(AuthAccountsBase, unittest.TestCase):
    """Without sanitizers: auth's allow-list differs (SQLite in the jail)."""
    build = PLAIN or BUILD


@unittest.skipUnless(HOOKS, "needs --enable-test-hooks")
class LocalDelivery(LocalDeliveryBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(HOOKS and PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class LocalDeliveryPlainBuild(LocalDeliveryBase, unittest.TestCase):
    build = PLAIN or BUILD


@unittest.skipUnless(HOOKS, "needs --enable-test-hooks")
class NoUnlockCache(unittest.TestCase):
    """auth-cache-lifetime 0: every login pays its KDF; one worker thread
    still serves logins arriving together."""

    def test_every_login_runs_a_kdf(self):
        with Instance("nocache", extra_conf=["instance-type test", "kdf-strength test",
                                             "auth-cache-lifetime 0",
                                             "auth-kdf-workers 1"]) as inst:
            inst.wait_services_ready()
            sealpostctl(inst, "domain", "add", "corp.test")
            sealpostctl(inst, "user", "add", "hank@corp.test", inp=PW + "\n")
            t = AuthAccountsBase()
            t.inst = inst
            before = AuthAccountsBase.kdf_runs(t)
            with ThreadPoolExecutor(3) as ex:
                who = list(ex.map(lambda _: AuthAccountsBase.login(t, "hank@corp.test", PW),
                                  range(3)))
            self.assertIsNotNone(who[0])
            self.assertEqual(set(who), {who[0]})
            for _ in range(2):
                self.assertEqual(AuthAccountsBase.login(t, "hank@corp.test", PW), who[0])
            # 3 at once may share one KDF (kdf-shared); the later 2 cannot
            runs = AuthAccountsBase.kdf_runs(t, lines=5, user="hank@corp.test") - before
            self.assertGreaterEqual(runs, 3)
            self.assertLessEqual(runs, 5)
            self.assertNotIn("via=cache", inst.log())
            inst.stop()
            self.assertEqual(inst.bad_log_lines(), [])
