"""The store end to end: messages go in through sealpostctl deliver (the
deliver service seals them to the account's public key) and come out
through the reading library (tests/tools/readmail: unlock with the
password from users.db, act as the account's uid, import new/ into
index.db, read every message), byte-identical.  Nothing readable about a
message is anywhere on disk: a marker put in its subject, sender, body and
an attachment name is found nowhere under the instance folder, raw,
quoted-printable or base64 at any alignment, before or after the import.
Then store check finds nothing wrong."""

import base64
import binascii
import glob
import hashlib
import imaplib
import os
import quopri
import random
import re
import subprocess
import unittest

from sealpost_test import BUILD, SCALE, Instance

HOOKS = "#define SP_TEST_HOOKS 1" in open(os.path.join(BUILD, "config.h")).read()
PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
PW = "a long test password"
PY_MSGS = sorted(glob.glob("/usr/lib/python3.11/test/test_email/data/msg_*.txt"))


def encodings(marker):
    """The marker as it could appear: raw, QP, and base64 at 3 offsets."""
    forms = {marker, quopri.encodestring(marker).rstrip(b"=\n")}
    for pad in range(3):
        b = base64.b64encode(b"x" * pad + marker)
        # the part of the encoding that only depends on the marker
        start = (pad * 4 + 2) // 3 + 1
        forms.add(b[start:start + 12])
    return [f for f in forms if len(f) >= 8]


class StoreBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.readmail_bin = os.path.join(cls.build, "tests", "tools", "readmail")
        cls.inst = Instance("store", build=cls.build, extra_conf=["instance-type test",
                                                  "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.pwfile = os.path.join(cls.inst.tmp, "pw")
        with open(cls.pwfile, "w") as f:
            f.write(PW + "\n")
        cls.ctl("domain", "add", "store.test")
        cls.ctl("user", "add", "reader@store.test", "--password-file", cls.pwfile)

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        bad = cls.inst.bad_log_lines()
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    @classmethod
    def ctl(cls, *args, inp=None):
        r = subprocess.run([os.path.join(cls.build, "sealpostctl"), "-c", cls.inst.conf]
                           + list(args), input=inp, capture_output=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("sealpostctl %s: %s" % (args[:2], r.stderr))
        return r

    def readmail(self, check=False):
        r = subprocess.run([self.readmail_bin] + (["-c"] if check else []) +
                           [os.path.join(self.inst.dir, "data"), "reader@store.test",
                            self.pwfile], capture_output=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode().splitlines()

    def imap_xsptest(self):
        """Log in over IMAPS (the mail process imports and builds records)
        and return XSPTEST's counters."""
        m = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                              ssl_context=self.inst.tls_context(), timeout=120)
        m.login("reader@store.test", PW)
        m.xatom("XSPTEST")
        who = m.untagged_responses.pop("XSPTEST")[0].decode()
        m.logout()
        return {k: int(v) for k, v in re.findall(r"(inbox|meta)=(\d+)", who)}

    def scan(self, markers):
        """Every byte of every file under the instance and its logs."""
        found = []
        forms = [(m, f) for m in markers for f in encodings(m)]
        for root, _, files in os.walk(self.inst.tmp):
            for name in files:
                path = os.path.join(root, name)
                if os.path.islink(path) or not os.path.isfile(path) or path == self.pwfile:
                    continue
                data = open(path, "rb").read()
                for m, f in forms:
                    if f in data:
                        found.append((path, m, f))
        return found

    def test_round_trip_and_confidentiality(self):
        rnd = random.Random(4)
        sent = []
        markers = [b"SubjMark-%s" % binascii.hexlify(os.urandom(4)) for _ in range(4)]
        subj, sender, body, attach = markers
        secret = (b"From: Someone <" + sender + b"@other.test>\r\n"
                  b"To: reader@store.test\r\nSubject: " + subj + b"\r\n"
                  b"MIME-Version: 1.0\r\n"
                  b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
                  b"--XX\r\nContent-Type: text/plain\r\n\r\n" + body + b"\r\n"
                  b"--XX\r\nContent-Type: application/octet-stream\r\n"
                  b"Content-Disposition: attachment; filename=\"" + attach + b".bin\"\r\n"
                  b"Content-Transfer-Encoding: base64\r\n\r\n" +
                  base64.encodebytes(os.urandom(3000)) + b"--XX--\r\n")
        messages = [secret, b"", b"x", bytes(range(256)) * 300]   # 8-bit, binary
        messages += [open(p, "rb").read() for p in PY_MSGS]
        for size in (65535, 65536, 65537, 1 << 20):
            messages.append(bytes(rnd.getrandbits(8) for _ in range(min(size, 4096))) *
                            (size // 4096) + b"t" * (size % 4096))
        messages.append(os.urandom(25 * 1024 * 1024))
        n = max(len(messages), 200 * SCALE)
        while len(messages) < n:
            messages.append(os.urandom(rnd.randrange(0, 200000)))
        for m in messages:
            self.ctl("deliver", "reader@store.test", inp=m)
            sent.append(hashlib.sha256(m).hexdigest())

        # before the account ever reads: nothing in clear
        self.assertEqual(self.scan(markers), [])
        lines = self.readmail()
        got = sorted(l.split()[3] for l in lines if l.startswith("INBOX "))
        self.assertEqual(len(lines), len(messages), "\n".join(lines[:5]))
        self.assertEqual(got, sorted(sent))
        # after the import (index.db, its WAL, blobs/): still nothing
        self.assertEqual(self.scan(markers), [])
        chk = self.readmail(check=True)
        self.assertRegex(chk[0], r"^rows=%d blobs=%d pending=0 missing=0 orphans=0 "
                         r"bad_blobs=0$" % (len(messages), len(messages)))
        # a second read imports nothing new and reads the same
        self.assertEqual(sorted(self.readmail()), sorted(lines))
        if HOOKS:
            # the account logs in: its mail process builds the sealed
            # metadata (subject, sender, attachment name...): still nothing
            for _ in range(1 + len(messages) // 200):
                who = self.imap_xsptest()
                if who["meta"] == who["inbox"]:
                    break
            self.assertEqual(who["meta"], len(messages), who)
            self.assertEqual(self.scan(markers), [])

    def test_store_check_and_stats(self):
        pw = os.path.join(self.inst.tmp, "pw2")
        with open(pw, "w") as f:
            f.write(PW + "\n")
        self.ctl("user", "add", "checked@store.test", "--password-file", pw)
        for i in range(5):
            self.ctl("deliver", "checked@store.test", inp=os.urandom(1000 + i))
        r = self.ctl("store", "check", "checked@store.test")
        self.assertRegex(r.stdout.decode(), r"checked@store.test +0 +0 +5 +0 +0\n")
        out = subprocess.run([self.readmail_bin, os.path.join(self.inst.dir, "data"),
                              "checked@store.test", pw], capture_output=True, check=True)
        self.assertEqual(len(out.stdout.splitlines()), 5)
        r = self.ctl("store", "check", "checked@store.test")
        self.assertRegex(r.stdout.decode(), r"checked@store.test +5 +5 +0 +0 +0\n")
        stats = self.ctl("store", "stats").stdout.decode()
        self.assertRegex(stats, r"checked@store.test +\d+ +5 +5 +0 +\d+\n")
        # a blob gone from disk: a problem, and exit 1; nothing "repaired" away
        account = re.search(r"checked@store.test +(\d+)", stats).group(1)
        blobs = os.path.join(self.inst.dir, "data", "mail", account, "blobs")
        os.unlink(os.path.join(blobs, sorted(os.listdir(blobs))[0]))
        r = subprocess.run([os.path.join(self.build, "sealpostctl"), "-c", self.inst.conf,
                            "store", "check", "checked@store.test"], capture_output=True)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout.decode(), r"checked@store.test +5 +4 +0 +1 +0\n")
        # an unknown account is an error
        r = subprocess.run([os.path.join(self.build, "sealpostctl"), "-c", self.inst.conf,
                            "store", "check", "ghost@store.test"], capture_output=True)
        self.assertEqual((r.returncode, r.stderr), (1, b"sealpostctl: no account ghost@store.test\n"))


    def test_tamper(self):
        """A flipped byte, a truncated blob, a blob swapped between two
        messages and one swapped in from another user: each is an integrity
        error for that message only; the rest of the mailbox reads."""
        pw = os.path.join(self.inst.tmp, "pw3")
        with open(pw, "w") as f:
            f.write(PW + "\n")
        for who in ("t1@store.test", "t2@store.test"):
            self.ctl("user", "add", who, "--password-file", pw)
            for i in range(6):
                self.ctl("deliver", who, inp=os.urandom(100000 + i))

        def read(who, expect_rc=0):
            r = subprocess.run([self.readmail_bin, os.path.join(self.inst.dir, "data"),
                                who, pw], capture_output=True, timeout=120)
            self.assertEqual(r.returncode, expect_rc, r.stderr)
            return r.stdout.decode().splitlines()

        def blobs_of(who):
            account = re.search(r"%s +(\d+)" % re.escape(who),
                                self.ctl("user", "list").stdout.decode()).group(1)
            d = os.path.join(self.inst.dir, "data", "mail", account, "blobs")
            return d, sorted(os.listdir(d))

        good = read("t1@store.test")              # imports everything
        read("t2@store.test")
        d1, b1 = blobs_of("t1@store.test")
        d2, b2 = blobs_of("t2@store.test")
        path = lambda d, n: os.path.join(d, n)
        with open(path(d1, b1[0]), "r+b") as f:   # a flipped byte in a chunk
            f.seek(70000)
            c = f.read(1)
            f.seek(70000)
            f.write(bytes([c[0] ^ 1]))
        os.truncate(path(d1, b1[1]), 65536)       # truncated
        a, b = open(path(d1, b1[2]), "rb").read(), open(path(d1, b1[3]), "rb").read()
        open(path(d1, b1[2]), "wb").write(b)      # swapped between messages
        open(path(d1, b1[3]), "wb").write(a)
        open(path(d1, b1[4]), "wb").write(open(path(d2, b2[0]), "rb").read())  # other user
        lines = read("t1@store.test", expect_rc=3)
        damaged = [l for l in lines if " damaged " in l]
        self.assertEqual(len(damaged), 5, "\n".join(lines))
        intact = [l for l in lines if " damaged " not in l]
        self.assertEqual(len(intact), 1)
        self.assertIn(intact[0], good)
        # the other user is untouched
        self.assertEqual(len(read("t2@store.test")), 6)


class Store(StoreBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class StorePlainBuild(StoreBase, unittest.TestCase):
    """Without sanitizers: the auth and deliver allow-lists differ."""
    build = PLAIN or BUILD

