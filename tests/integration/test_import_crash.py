"""Crashes of the store's import and expunge on a running instance, and
sealpostctl store check --repair end to end.  Mail goes in through
sealpostctl deliver (the real deliver service); it is imported and read by
tests/tools/readmail (the reading library, as the account, in its jail) or
by the real imap-mail process at login.

- readmail -x STEP stops the index right after each crash point of
  src/store/index.c (_exit(99), a test hook); afterwards every acknowledged
  message is there once and byte-identical, an expunge that committed
  stays done, and store check reports exactly the debris index.c's "crash
  safety" notes promise (rows whose file is still in new/, expunged blobs
  still on disk), which --repair or the next import removes.
- kill -9 of readmail at random moments while a backlog is delivered and
  imported; kill -9 of imap-mail during its login-time import (both
  builds: the sandbox allow-lists differ).  Nothing lost, nothing twice.
- store check --repair: each kind of problem that repair fixes is made by
  a crash or by hand (as root), check names it and exits 1, --repair
  fixes it, check is clean, no mail is lost; what repair must not touch
  (a stray file, a young orphan) stays.

Three tests here found bugs in src/ (now fixed): their docstrings say
which."""

import hashlib
import imaplib
import os
import random
import re
import signal
import sqlite3
import subprocess
import threading
import time
import unittest

from sealpost_test import BUILD, SCALE, TOP, Instance, wait_for

HOOKS = "#define SP_TEST_HOOKS 1" in open(os.path.join(BUILD, "config.h")).read()
PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
PW = "import crash password"
OLD = time.time() - 3 * 3600    # older than INDEX_TMP_AGE and INDEX_ORPHAN_GRACE

# crash points readmail can reach, and those it cannot (no append in it)
STEPS = ("import-row", "import-move", "expunge-commit")
NOT_HERE = ("append-written",)   # tests/unit/test_index.c


class StoreTestBase:
    """One instance per class; one account per test."""
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("impcrash", build=cls.build,
                            extra_conf=["instance-type test", "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.pwfile = os.path.join(cls.inst.tmp, "pw")
        with open(cls.pwfile, "w") as f:
            f.write(PW + "\n")
        cls.ctl("domain", "add", "imp.test")
        cls.sent = {}                   # address -> [sha256 of acked messages]

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        # our kill -9 lines are expected; nothing else may be there
        bad = [l for l in cls.inst.bad_log_lines() if "signal=9" not in l]
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    @classmethod
    def ctl(cls, *args, inp=None, expect=0):
        r = subprocess.run([os.path.join(cls.build, "sealpostctl"), "-c", cls.inst.conf]
                           + list(args), input=inp, capture_output=True, timeout=120)
        if expect is not None and r.returncode != expect:
            raise AssertionError("sealpostctl %s: exit %d\n%s%s" % (
                " ".join(args), r.returncode, r.stdout.decode(), r.stderr.decode()))
        return r

    def account(self, name):
        """A new account: (address, its folder, its uid)."""
        addr = name + "@imp.test"
        out = self.ctl("user", "add", addr, "--password-file", self.pwfile).stdout.decode()
        m = re.search(r"account (\d+), uid (\d+)", out)
        self.sent[addr] = []
        return addr, os.path.join(self.inst.dir, "data", "mail", m.group(1)), int(m.group(2))

    def deliver(self, addr, n, rnd, lo=1, hi=150000):
        """n messages through the deliver service, each acknowledged."""
        for _ in range(n):
            data = os.urandom(rnd.randrange(lo, hi))
            self.ctl("deliver", addr, inp=data)
            self.sent[addr].append(hashlib.sha256(data).hexdigest())

    def readmail(self, addr, *opts, expect=0):
        """readmail's lines as (mailbox, uid, size, sha256)."""
        r = subprocess.run([os.path.join(self.build, "tests", "tools", "readmail")]
                           + list(opts) + [os.path.join(self.inst.dir, "data"), addr,
                                           self.pwfile], capture_output=True, timeout=120)
        self.assertEqual(r.returncode, expect, (opts, r.stderr))
        lines = [l.split() for l in r.stdout.decode().splitlines()]
        for l in lines:
            self.assertEqual(len(l), 4, l)      # never "damaged"
        return [(l[0], int(l[1]), int(l[2]), l[3]) for l in lines]

    def check(self, addr, repair=False):
        """store check [--repair] ADDRESS: (exit status, (rows, blobs,
        pending, problems, repaired), problem lines)."""
        r = self.ctl("store", "check", *(["--repair"] if repair else []), addr,
                     expect=None)
        out = r.stdout.decode().splitlines()
        self.assertEqual(out[0].split(), ["ADDRESS", "ROWS", "BLOBS", "PENDING", "PROBLEMS",
                                          "REPAIRED"], out)
        self.assertEqual(out[1].split()[0], addr, out)
        self.assertNotIn("error:", out[1], r.stdout.decode())
        return r.returncode, tuple(int(x) for x in out[1].split()[1:]), out[2:]

    def assert_all_there(self, addr, lines, gone=()):
        """Every acknowledged message but those expunged (sha256 in gone)
        exactly once, byte-identical (sha256), all in INBOX."""
        want = sorted(h for h in self.sent[addr] if h not in gone)
        self.assertEqual(sorted(l[3] for l in lines), want)
        self.assertEqual({l[0] for l in lines} - {"INBOX"}, set())
        self.assertEqual(len({l[1] for l in lines}), len(lines))     # uids unique

    def assert_clean(self, addr, rows):
        rc, counts, problems = self.check(addr)
        self.assertEqual((rc, counts, problems), (0, (rows, rows, 0, 0, 0), []))


@unittest.skipUnless(HOOKS, "needs --enable-test-hooks")
class ImportCrash(StoreTestBase, unittest.TestCase):

    def test_every_crash_point_is_covered(self):
        """A new CRASH_POINT in index.c needs a crash test."""
        src = open(os.path.join(TOP, "src", "store", "index.c")).read()
        self.assertEqual(set(re.findall(r'CRASH_POINT\("([a-z-]+)"\)', src)),
                         set(STEPS + NOT_HERE))

    def test_crash_after_import_row(self):
        """Rows committed, files still in new/: readable from there, store
        check lists them but counts no problem, the next import only moves
        them (no second row)."""
        rnd = random.Random(1)
        addr, folder, _ = self.account("row")
        self.deliver(addr, 2, rnd)
        first = self.readmail(addr)                  # 2 imported and moved
        self.deliver(addr, 4, rnd, 60000, 140000)    # across 64 KiB chunks
        self.readmail(addr, "-x", "import-row", expect=99)
        rc, counts, problems = self.check(addr)
        self.assertEqual((rc, counts), (0, (6, 2, 0, 0, 0)), problems)
        self.assertEqual(len(problems), 4, problems)
        for p in problems:
            self.assertRegex(p, r"^  new/[0-9a-f]{32}: indexed, still in new/ "
                             r"\(import moves it\)$")
        self.assertEqual(len(os.listdir(os.path.join(folder, "new"))), 4)
        # without an import: all six read, the four from new/
        lines = self.readmail(addr, "-n")
        self.assertEqual(lines[:2], first)
        self.assert_all_there(addr, lines)
        # the import only moves: same uids, same bytes
        self.assertEqual(self.readmail(addr), lines)
        self.assertEqual(os.listdir(os.path.join(folder, "new")), [])
        self.assert_clean(addr, 6)

    def test_crash_after_import_move(self):
        """Rows committed and files moved, the crash before the fsync: a
        process crash leaves nothing to do."""
        rnd = random.Random(2)
        addr, folder, _ = self.account("move")
        self.deliver(addr, 5, rnd)
        self.readmail(addr, "-x", "import-move", expect=99)
        self.assert_clean(addr, 5)
        lines = self.readmail(addr)
        self.assert_all_there(addr, lines)
        self.assertEqual(self.readmail(addr, "-n"), lines)
        self.assert_clean(addr, 5)

    def test_crash_after_expunge_commit(self):
        """The expunge committed, its files not yet removed: the messages
        are gone for good; store check reports their blobs as garbage (exit
        1), --repair removes them, and the next expunge would too."""
        rnd = random.Random(3)
        addr, folder, _ = self.account("expunge")
        self.deliver(addr, 6, rnd)
        before = self.readmail(addr)
        self.assert_all_there(addr, before)
        # -e 2: uids 1 and 2, the lowest
        self.readmail(addr, "-n", "-e", "2", "-x", "expunge-commit", expect=99)
        gone = {l[3] for l in before[:2]}
        rc, counts, problems = self.check(addr)
        self.assertEqual((rc, counts), (1, (4, 6, 0, 2, 0)), problems)
        for p in problems:
            self.assertRegex(p, r"^  blobs/[0-9a-f]{32}: expunged, not yet removed$")
        lines = self.readmail(addr, "-n")
        self.assertEqual(lines, before[2:])
        self.assert_all_there(addr, lines, gone)
        rc, counts, problems = self.check(addr, repair=True)
        self.assertEqual((rc, counts), (0, (4, 6, 0, 2, 2)), problems)
        for p in problems:
            self.assertRegex(p, r"^  blobs/[0-9a-f]{32}: removed \(repaired\)$")
        self.assert_clean(addr, 4)
        self.assertEqual(self.readmail(addr), lines)

        # again: this time the next expunge removes the garbage ...
        self.readmail(addr, "-n", "-e", "1", "-x", "expunge-commit", expect=99)
        self.assertEqual(self.check(addr)[:2], (1, (3, 4, 0, 1, 0)))
        self.readmail(addr, "-n", "-e", "1")
        self.assert_clean(addr, 2)
        self.assertEqual(self.readmail(addr), lines[2:])
        # ... and once more: the next import does (the mail process's login)
        self.readmail(addr, "-n", "-e", "1", "-x", "expunge-commit", expect=99)
        self.assertEqual(self.check(addr)[:2], (1, (1, 2, 0, 1, 0)))
        self.assertEqual(self.readmail(addr), lines[3:])
        self.assert_clean(addr, 1)

    def test_expunge_between_import_row_crash_and_import(self):
        """A message expunged while its file is still in new/ (an import
        crashed after its rows): the expunge removes it from new/, and the
        next import does not bring it back."""
        rnd = random.Random(4)
        addr, folder, _ = self.account("rowexp")
        self.deliver(addr, 4, rnd)
        self.readmail(addr, "-x", "import-row", expect=99)
        listed = self.readmail(addr, "-n", "-e", "1")
        self.assertEqual(len(listed), 3)
        self.assertEqual(len(os.listdir(os.path.join(folder, "new"))), 3)
        gone = set(self.sent[addr]) - {l[3] for l in listed}
        self.assertEqual(len(gone), 1)
        lines = self.readmail(addr)
        self.assertEqual(lines, listed)
        self.assert_all_there(addr, lines, gone)
        self.assert_clean(addr, 3)

    def test_expunge_crash_between_import_row_crash_and_import(self):
        """An import crashes after its rows ("import-row": files still in
        new/), then an expunge of one of them crashes after its commit
        ("expunge-commit": the row is gone, the blob is named in
        "expunged", its file still in new/).  store check names that file
        as garbage, and the next import removes it rather than importing
        the expunged message again (a bug this test found: fixed)."""
        rnd = random.Random(5)
        addr, folder, _ = self.account("resurrect")
        self.deliver(addr, 3, rnd)
        self.readmail(addr, "-x", "import-row", expect=99)
        self.readmail(addr, "-n", "-e", "1", "-x", "expunge-commit", expect=99)
        listed = self.readmail(addr, "-n")
        self.assertEqual(len(listed), 2)
        rc, counts, problems = self.check(addr)
        self.assertEqual(rc, 1, problems)
        self.assertTrue(any(re.match(r"^  new/[0-9a-f]{32}: expunged, not yet removed$", p)
                            for p in problems), problems)
        self.assertEqual(self.readmail(addr), listed)
        self.assert_clean(addr, 2)
        self.assertEqual(os.listdir(os.path.join(folder, "new")), [])

    def test_repair_of_unmoved_files_exits_0(self):
        """Files of rows still in new/ (INDEX_P_UNMOVED) are no problem
        (the next import moves them), so their move by --repair is listed
        but not counted as a repair either: store check --repair exits 0
        with nothing left (it used to wrap "problems - repaired" and exit
        1; a bug this test found: fixed)."""
        rnd = random.Random(6)
        addr, folder, _ = self.account("unmoved")
        self.deliver(addr, 3, rnd)
        self.readmail(addr, "-x", "import-row", expect=99)
        rc, counts, problems = self.check(addr, repair=True)
        self.assertEqual(counts, (3, 3, 0, 0, 0), problems)
        for p in problems:
            self.assertRegex(p, r"^  new/[0-9a-f]{32}: moved into blobs/ \(repaired\)$")
        self.assert_clean(addr, 3)
        self.assertEqual(rc, 0)

    def test_check_after_a_crash_while_creating_the_index(self):
        """(A bug this test found, fixed.)  A mail process
        killed while it creates index.db (kill -9 of imap-mail at an
        account's first login does it) leaves the file empty.  The next
        index_open with INDEX_OPEN_CREATE makes the schema, so nothing is
        wrong: store check treats an empty index.db as a missing one,
        "nothing to check yet", exit 0 (it used to say "error: index.db:
        empty, not an index yet" and exit 1)."""
        rnd = random.Random(11)
        addr, folder, uid = self.account("empty")
        self.deliver(addr, 2, rnd)
        path = os.path.join(folder, "index.db")
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.chown(path, uid, uid)
        self.assertEqual(self.check(addr), (0, (0, 0, 2, 0, 0), []))

    def test_kill_9_during_import_of_a_backlog(self):
        """kill -9 of readmail at random moments while mail is delivered
        and imported; after every kill, no row is lost or doubled (rows +
        pending = what was acknowledged) and check finds no problem; at
        the end everything reads, once, byte-identical."""
        rnd = random.Random(7)
        addr, folder, _ = self.account("kill")
        rounds, kills, errors = 5 * SCALE, 0, []
        # when readmail imports: after its start-up, before its end
        t0 = time.monotonic()
        self.readmail(addr)
        self.readmail(addr)
        lo = (time.monotonic() - t0) / 2
        self.deliver(addr, 15, rnd, 1, 100000)
        t0 = time.monotonic()
        self.readmail(addr)
        hi = time.monotonic() - t0
        for _ in range(rounds):
            self.deliver(addr, 15, rnd, 1, 100000)          # a backlog
            done = threading.Event()

            def send():                                     # and more coming
                try:
                    self.deliver(addr, 5, random.Random(rnd.random()), 1, 100000)
                except Exception as e:          # an unacknowledged delivery
                    errors.append(e)
                finally:
                    done.set()
            sender = threading.Thread(target=send)
            sender.start()
            attempts = 0
            while not done.is_set() or attempts < 3:
                attempts += 1
                p = subprocess.Popen([os.path.join(self.build, "tests", "tools", "readmail"),
                                      os.path.join(self.inst.dir, "data"), addr,
                                      self.pwfile], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
                time.sleep(rnd.uniform(0.8 * lo, 1.2 * hi))
                p.send_signal(signal.SIGKILL)
                _, err = p.communicate(timeout=60)
                self.assertIn(p.returncode, (0, -9), err)
                kills += p.returncode == -9
                # at most one delivery in flight: on disk, not yet acked
                acked = len(self.sent[addr])
                rc, (rows, _, pending, probs, _), problems = self.check(addr)
                self.assertEqual((rc, probs), (0, 0), problems)
                self.assertGreaterEqual(rows + pending, acked, problems)
                self.assertLessEqual(rows + pending, len(self.sent[addr]) + 1, problems)
                for l in problems:
                    self.assertRegex(l, r"indexed, still in new/")
            sender.join()
            self.assertEqual(errors, [])
        self.assertGreater(kills, 0)
        lines = self.readmail(addr)
        self.assert_all_there(addr, lines)
        self.assert_clean(addr, len(self.sent[addr]))

    def test_store_check_repair(self):
        """Each kind of problem --repair fixes, made by a crash or by hand:
        an orphan (a blob in blobs/ without a row, as an append that
        crashed leaves it), a row whose file is still in new/, an expunged
        blob still on disk, stale temporaries in new/ and blobs/, a wrong
        usage counter.  Beside them what repair must leave alone: a young
        orphan (maybe an append in progress) and a file that is not a
        blob.  check names each and exits 1; --repair fixes what it may;
        then check is clean and no message is lost."""
        rnd = random.Random(8)
        addr, folder, uid = self.account("repair")
        new, blobs = os.path.join(folder, "new"), os.path.join(folder, "blobs")
        self.deliver(addr, 5, rnd)
        imported = self.readmail(addr)
        # garbage: uid 1 expunged, the crash before its file went
        self.readmail(addr, "-n", "-e", "1", "-x", "expunge-commit", expect=99)
        gone = {imported[0][3]}
        garbage = [re.match(r"  blobs/([0-9a-f]{32}): expunged", l).group(1)
                   for l in self.check(addr)[2]]
        self.assertEqual(len(garbage), 1)
        # unmoved: a row's file back in new/ (an import that crashed)
        unmoved = sorted(set(os.listdir(blobs)) - set(garbage))[0]
        os.rename(os.path.join(blobs, unmoved), os.path.join(new, unmoved))
        # orphans: two deliveries put into blobs/ without a row, one old
        self.deliver(addr, 2, rnd)
        orphan, young = sorted(set(os.listdir(new)) - {unmoved})
        for n in (orphan, young):
            os.rename(os.path.join(new, n), os.path.join(blobs, n))
        os.utime(os.path.join(blobs, orphan), (OLD, OLD))
        # stale temporaries, the account's own
        for d, n in ((new, ".tmp-0123abcd"), (blobs, ".tmp-4567ef01")):
            with open(os.path.join(d, n), "wb") as f:
                f.write(b"half a blob")
            os.chown(os.path.join(d, n), uid, uid)
            os.utime(os.path.join(d, n), (OLD, OLD))
        # not a blob: never deleted
        stray = os.path.join(blobs, "notes.txt")
        with open(stray, "w") as f:
            f.write("an administrator's note\n")
        # a wrong usage counter (index.db changed as the account, not root)
        self.sql_as(uid, folder, "UPDATE account SET usage_bytes = usage_bytes + 4096")

        rc, counts, problems = self.check(addr)
        text = "\n".join(problems)
        self.assertEqual(rc, 1, text)
        self.assertEqual(counts, (4, 6, 0, 7, 0), text)
        expect = [r"new/%s: indexed, still in new/ \(import moves it\)" % unmoved,
                  r"blobs/%s: no row$" % orphan,
                  r"blobs/%s: no row; too young to move \(an append\?\)" % young,
                  r"blobs/%s: expunged, not yet removed" % garbage[0],
                  r"new/\.tmp-0123abcd: an unfinished write, older than an hour",
                  r"blobs/\.tmp-4567ef01: an unfinished write, older than an hour",
                  r"blobs/notes\.txt: not a blob name",
                  r"index/usage: counter \d+ bytes in 4 blobs, rows say \d+ in 4"]
        for rx in expect:
            self.assertRegex(text, "(?m)" + rx)
        self.assertEqual(len(problems), len(expect), text)

        rc, counts, problems = self.check(addr, repair=True)
        text = "\n".join(problems)
        self.assertEqual(rc, 1, text)               # the young orphan, the stray file
        repaired = [l for l in problems if l.endswith(" (repaired)")]
        self.assertEqual(len(repaired), 6, text)
        for rx in (r"new/%s: moved into blobs/ \(repaired\)" % unmoved,
                   r"blobs/%s: no row; moved to new/ for import \(repaired\)" % orphan,
                   r"blobs/%s: removed \(repaired\)" % garbage[0],
                   r"new/\.tmp-0123abcd: removed \(repaired\)",
                   r"blobs/\.tmp-4567ef01: removed \(repaired\)",
                   r"index/usage: counter .* \(repaired\)",
                   r"blobs/%s: no row; too young to move \(an append\?\)$" % young,
                   r"blobs/notes\.txt: not a blob name$"):
            self.assertRegex(text, "(?m)" + rx)
        self.assertTrue(os.path.exists(stray))
        self.assertTrue(os.path.exists(os.path.join(blobs, young)))
        self.assertTrue(os.path.exists(os.path.join(new, orphan)))

        # the administrator takes the stray file away; the young orphan ages
        os.unlink(stray)
        os.utime(os.path.join(blobs, young), (OLD, OLD))
        rc, counts, problems = self.check(addr, repair=True)
        self.assertEqual((rc, counts), (0, (4, 5, 2, 1, 1)), problems)
        self.assertEqual(self.check(addr), (0, (4, 4, 2, 0, 0), []))
        # the orphans are imported again: nothing lost but the expunged one
        lines = self.readmail(addr)
        self.assert_all_there(addr, lines, gone)
        self.assertEqual(len(lines), 6)
        self.assert_clean(addr, 6)

    def sql_as(self, uid, folder, sql):
        """Run one statement on index.db as the account's uid, chrooted in
        its folder (its parents are closed to that uid), never as root."""
        pid = os.fork()
        if pid == 0:
            try:
                os.chroot(folder)
                os.chdir("/")
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                db = sqlite3.connect("/index.db")
                db.execute(sql)
                db.commit()
                db.close()
                os._exit(0)
            except BaseException:
                os._exit(1)
        self.assertEqual(os.waitpid(pid, 0)[1], 0)


class ImapMailCrashBase(StoreTestBase):
    """kill -9 of the real imap-mail process during its login-time import."""

    def imap_mail(self, uid, old=()):
        """The pids of our master's live imap-mail children running as
        uid, but those in old."""
        pids = set()
        for p in os.listdir("/proc"):
            if not p.isdigit() or int(p) in old:
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    comm, rest = f.read().rsplit(")", 1)
                st = os.stat("/proc/" + p)
            except OSError:
                continue
            state, ppid = rest.split()[:2]
            if (comm.endswith("(sealpost-imap-m") and st.st_uid == uid and
                    state != "Z" and int(ppid) == self.inst.master_pid):
                pids.add(int(p))
        return pids

    def has_index_open(self, pid):
        try:
            return any(os.readlink("/proc/%d/fd/%s" % (pid, fd)).endswith("/index.db")
                       for fd in os.listdir("/proc/%d/fd" % pid))
        except OSError:
            return False

    def login(self, addr, out, hold=None):
        """Log in over IMAPS (and wait for hold, an Event, if given);
        out["inbox"]: XSPTEST's INBOX count, or out["error"]."""
        try:
            m = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                                  ssl_context=self.inst.tls_context(), timeout=30)
            m.login(addr, PW)
            if hold is not None:
                hold.wait(60)
            m.xatom("XSPTEST")
            who = m.untagged_responses.pop("XSPTEST")[0].decode()
            out["inbox"] = int(re.search(r"\binbox=(\d+)\b", who).group(1))
            m.logout()
        except (OSError, imaplib.IMAP4.error, AttributeError) as e:
            out["error"] = e

    def test_kill_9_imap_mail_during_login_import(self):
        """Each round: a backlog in new/, a login, and kill -9 of its
        imap-mail while it imports (alternately soon after it opened
        index.db, while it opens the blobs, and as soon as the first file
        leaves new/, after the rows' commit).  Afterwards store check sees
        every acknowledged message once (rows + pending) and no problem; the
        next login imports the rest (its XSPTEST count is everything); the
        reading library reads it all, byte-identical."""
        rnd = random.Random(9)
        addr, folder, uid = self.account("imap")
        new = os.path.join(folder, "new")
        interrupted, log_start = 0, len(self.inst.log())
        # the first login creates index.db (a crash inside that: see
        # ImportCrash.test_check_after_a_crash_while_creating_the_index)
        self.deliver(addr, 2, rnd)
        out = {}
        self.login(addr, out)
        self.assertEqual(out.get("inbox"), 2, out)
        for i in range(4 * SCALE):
            # one batch (INDEX_IMPORT_MAX)
            self.deliver(addr, 30, rnd, 1, 100000)
            out, hold = {}, threading.Event()
            old, n0 = self.imap_mail(uid), len(os.listdir(new))
            t = threading.Thread(target=self.login, args=(addr, out, hold))
            t.start()
            pid, = wait_for(lambda: self.imap_mail(uid, old), 20, "imap-mail", 0.002)
            wait_for(lambda: self.has_index_open(pid), 20, "index.db open", 0.001)
            if i % 2 == 0:
                time.sleep(rnd.uniform(0, 0.003))
            else:
                deadline = time.monotonic() + 20
                while len(os.listdir(new)) == n0 and time.monotonic() < deadline:
                    pass
            os.kill(pid, signal.SIGKILL)
            hold.set()
            t.join(60)
            self.assertIn("error", out)
            self.inst.wait_log(r"event=exit proc=imap-mail pid=%d signal=9" % pid)
            if not re.search(r"imap-mail\[%d\]: .* event=import " % pid, self.inst.log()):
                interrupted += 1
            rc, (rows, blobs, pending, probs, _), problems = self.check(addr)
            self.assertEqual((rc, probs), (0, 0), problems)
            self.assertEqual(rows + pending, len(self.sent[addr]), problems)
            # the next login finishes the job
            out = {}
            self.login(addr, out)
            self.assertEqual(out.get("inbox"), len(self.sent[addr]), out)
            self.assertEqual(os.listdir(new), [])
            self.assert_clean(addr, len(self.sent[addr]))
        self.assertGreater(interrupted, 0)
        self.assertNotIn("sandbox violation", self.inst.log()[log_start:])
        self.assert_all_there(addr, self.readmail(addr, "-n"))

    def test_login_imports_a_backlog_over_60(self):
        """61 blobs in new/ at login: index_import's qsort of 61 candidates
        (56-byte entries) is where glibc's qsort first asks for
        sysconf(_SC_PHYS_PAGES), i.e. sysinfo(2), which imap-mail's seccomp
        filter kills ("sandbox violation syscall=99"; then no login
        imports anything any more).  It passes only because glibc caches
        the answer and g_mime_init (meta_init, before the sandbox) happens
        to make a large qsort first (gpgme_check_version): the filter
        allows no sysinfo and nothing warms it up on purpose."""
        rnd = random.Random(10)
        addr, folder, uid = self.account("backlog")
        self.deliver(addr, 61, rnd, 1, 2000)
        out, log_start = {}, len(self.inst.log())
        self.login(addr, out)
        self.assertEqual(out.get("inbox"), 61, out)
        self.assertNotIn("sandbox violation", self.inst.log()[log_start:])


@unittest.skipUnless(HOOKS, "needs --enable-test-hooks")
class ImapMailCrash(ImapMailCrashBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(HOOKS and PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class ImapMailCrashPlainBuild(ImapMailCrashBase, unittest.TestCase):
    """Without sanitizers: imap-mail's allow-list differs."""
    build = PLAIN or BUILD
