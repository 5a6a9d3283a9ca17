"""sealpostctl's account commands (domain, user, alias, recovery) against
a real instance folder: every command, passwords on standard input, from
--password-file and at a terminal prompt; for each bad input the exact
one-line error, exit status 1 and an unchanged users.db; no password in
argv; users.db is mode 0600.  sealpostd need not run for any of this."""

import os
import pty
import re
import select
import shutil
import sqlite3
import stat
import subprocess
import time
import unittest

from sealpost_test import TOP, Instance

PW = "correct horse battery"
PW2 = "tr0ub4dor and then some"
PW3 = "a third good password"


def make_instance(name):
    """The instance folder and sealpost.conf that `contrib/dev instance`
    makes (as Instance.start does before it runs sealpostd), with a test
    instance's KDF limits."""
    inst = Instance(name, extra_conf=["instance-type test", "kdf-strength test"])
    env = dict(os.environ, SEALPOST_DEV_DIR=inst.dir,
               SEALPOST_PORT_OFFSET=str(inst.offset),
               SEALPOST_DEV_PREPARED="1", SEALPOST_BUILD_DIR=inst.build)
    subprocess.run([os.path.join(TOP, "contrib", "dev"), "instance"],
                   env=env, check=True, capture_output=True)
    with open(inst.conf, "a") as f:
        f.write("\n".join(inst.extra_conf) + "\n")
    return inst


class AccountsCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = make_instance("acct")
        cls.data = os.path.join(cls.inst.dir, "data")
        cls.db = os.path.join(cls.data, "users.db")
        cls.bin = os.path.join(cls.inst.build, "sealpostctl")
        cls.tmp = cls.inst.tmp

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    # -- helpers ------------------------------------------------------------
    def run_ctl(self, *args, stdin=b"", conf=None):
        """sealpostctl -c CONF ARGS with stdin (bytes; None: /dev/null).
        Returns (status, stdout, stderr) as text."""
        r = subprocess.run([self.bin, "-c", conf or self.inst.conf] + list(args),
                           input=stdin, stdin=None if stdin is not None
                           else subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def ok(self, *args, stdin=b"", conf=None):
        rc, out, err = self.run_ctl(*args, stdin=stdin, conf=conf)
        self.assertEqual((rc, err), (0, ""), "sealpostctl %s" % " ".join(args))
        return out

    def state(self):
        """Everything in users.db, to show that a refused command changed
        nothing."""
        if not os.path.exists(self.db):
            return None
        c = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return "\n".join(c.iterdump())
        finally:
            c.close()

    def refused(self, args, message, stdin=b"", conf=None, status=1):
        """The command fails with exactly this one line and changes nothing."""
        before = self.state()
        rc, out, err = self.run_ctl(*args, stdin=stdin, conf=conf)
        self.assertEqual(rc, status, "sealpostctl %s: %s" % (" ".join(args), err))
        self.assertEqual(err, "sealpostctl: %s\n" % message)
        self.assertEqual(self.state(), before)
        return out

    def write(self, name, text, mode=0o600):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def other_conf(self, name, replace=None, add=()):
        """A copy of sealpost.conf in the instance folder (relative paths
        resolve there), with data-dir replaced and lines added."""
        with open(self.inst.conf) as f:
            text = f.read()
        if replace:
            text = text.replace("data-dir data\n", "data-dir %s\n" % replace)
        text += "".join(l + "\n" for l in add)
        path = os.path.join(self.inst.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def domain(self, name, *extra):
        self.ok("domain", "add", name, *extra)

    def user(self, addr, pw=PW, *extra):
        return self.ok("user", "add", addr, *extra, stdin=(pw + "\n").encode())

    # -- the tests ------------------------------------------------------------
    def test_missing_users_db(self):
        """Before the first domain there is no users.db, and only domain add
        makes one (contrib/dev instance has made the instance's: this uses
        an empty data-dir of its own)."""
        fresh = os.path.join(self.inst.dir, "fresh")
        os.makedirs(fresh, mode=0o700)
        conf = self.other_conf("fresh.conf", replace="fresh")
        db = os.path.join(fresh, "users.db")
        for args, stdin in ((["user", "list"], b""), (["domain", "list"], b""),
                            (["user", "add", "a@example.test"], b"x" * 20 + b"\n"),
                            (["alias", "add", "b@example.test", "a@example.test"],
                             b"")):
            rc, out, err = self.run_ctl(*args, stdin=stdin, conf=conf)
            self.assertEqual((rc, err), (1, "sealpostctl: %s does not exist: add a "
                                         "domain first (sealpostctl domain add "
                                         "DOMAIN)\n" % db), args)
        self.assertEqual(os.listdir(fresh), [])
        # a domain of the configuration: no note
        self.assertEqual(self.ok("domain", "add", "example.test", conf=conf),
                         "added domain example.test\npostmaster@example.test and "
                         "abuse@example.test will go to the first account added in "
                         "example.test\n")
        self.assertEqual(stat.S_IMODE(os.stat(db).st_mode), 0o600)
        self.assertEqual(self.ok("user", "list", conf=conf),
                         "ADDRESS  ID  UID  QUOTA  USAGE  APP-PASSWORDS  RECOVERY\n")

    def test_bad_instance(self):
        self.refused(["user", "list"], "/nonexistent/sealpost.conf: No such file "
                     "or directory", conf="/nonexistent/sealpost.conf")
        conf = self.other_conf("nodata.conf", replace="nodata")
        self.refused(["domain", "add", "example.test"], "data-dir %s: No such "
                     "file or directory" % os.path.join(self.inst.dir, "nodata"),
                     conf=conf)
        # a users.db that is not one, and one that is a directory
        junk = os.path.join(self.inst.dir, "junk")
        os.makedirs(junk, exist_ok=True)
        with open(os.path.join(junk, "users.db"), "w") as f:
            f.write("not a database at all, not even close, no no no no\n")
        conf = self.other_conf("junk.conf", replace="junk")
        self.refused(["user", "list"], "%s/users.db: file is not a database"
                     % junk, conf=conf)
        self.refused(["domain", "add", "example.test"], "%s/users.db: file is "
                     "not a database" % junk, conf=conf)
        with open(os.path.join(junk, "users.db")) as f:
            self.assertTrue(f.read().startswith("not a database"))
        dird = os.path.join(self.inst.dir, "dird")
        os.makedirs(os.path.join(dird, "users.db"), exist_ok=True)
        conf = self.other_conf("dird.conf", replace="dird")
        self.refused(["domain", "list"], "%s/users.db: not a regular file"
                     % dird, conf=conf)

    def test_usage(self):
        for args in (["user"], ["user", "frob"], ["user", "add"],
                     ["user", "add", "a@b.test", "c"], ["domain", "list", "x"],
                     ["user", "reset-password", "a@b.test"]):
            rc, out, err = self.run_ctl(*args)
            self.assertEqual(rc, 2, args)
            self.assertTrue(err.startswith("usage: sealpostctl [-c file] "), err)
        rc, out, err = self.run_ctl("user", "add", "a@b.test", "--replace")
        self.assertEqual(rc, 2)
        self.assertTrue(err.startswith("sealpostctl: --replace does not go "
                                       "with user add\nusage: "), err)
        rc, out, err = self.run_ctl("user", "add", "a@b.test", "--bogus")
        self.assertEqual(rc, 2)
        self.assertTrue(err.startswith("sealpostctl: unknown option --bogus\n"))
        rc, out, err = self.run_ctl("user", "add", "a@b.test", "--quota")
        self.assertEqual(rc, 2)
        self.assertTrue(err.startswith("sealpostctl: --quota needs a value\n"))
        rc, out, err = self.run_ctl("user", "add", "--quota", "1K", "a@b.test",
                                    "--quota", "2K")
        self.assertEqual(rc, 2)
        self.assertTrue(err.startswith("sealpostctl: --quota given twice\n"))
        # status and reload keep their grammar
        rc, out, err = self.run_ctl("frobnicate")
        self.assertEqual(rc, 2)

    def test_domains(self):
        out = self.ok("domain", "add", "Dom1.test")
        self.assertEqual(out, "added domain dom1.test\npostmaster@dom1.test and "
                         "abuse@dom1.test will go to the first account added in "
                         "dom1.test\nnote: %s has no \"domain dom1.test\" line: "
                         "mail for dom1.test is refused until it has\n"
                         % self.inst.conf)
        self.refused(["domain", "add", "dom1.test"], "domain dom1.test exists")
        self.refused(["domain", "add", "bad_name.test"],
                     "\"bad_name.test\" is not a valid domain name")
        self.refused(["domain", "add", "dom2.test", "--postmaster",
                      "nobody@dom1.test"], "no account nobody@dom1.test")
        out = self.user("boss@dom1.test")
        self.assertEqual(out, "added boss@dom1.test: account %s, uid %s, quota "
                         "none\npostmaster@dom1.test and abuse@dom1.test go to "
                         "boss@dom1.test\nNO RECOVERY KEY: if this password is "
                         "forgotten, the mail of boss@dom1.test can never be read "
                         "again, by anyone\n"
                         % (re.search(r"account (\d+)", out).group(1),
                            re.search(r"uid (\d+)", out).group(1)))
        out = self.ok("domain", "add", "dom2.test", "--postmaster", "BOSS@dom1.test")
        self.assertIn("postmaster@dom2.test and abuse@dom2.test go to "
                      "boss@dom1.test\n", out)
        listing = self.ok("domain", "list")
        self.assertRegex(listing, r"^DOMAIN +ACCOUNTS +ALIASES +POSTMASTER +ABUSE\n")
        self.assertRegex(listing, r"\ndom1\.test +1 +2 +boss@dom1\.test +"
                         r"boss@dom1\.test\n")
        self.assertRegex(listing, r"\ndom2\.test +0 +2 +boss@dom1\.test +"
                         r"boss@dom1\.test\n")
        # columns line up
        lines = listing.splitlines()
        col = lines[0].index("ACCOUNTS")
        self.assertTrue(all(l[col - 2:col] == "  " for l in lines), listing)
        self.refused(["domain", "del", "dom1.test"], "domain dom1.test still has "
                     "1 account: delete them first")
        self.refused(["domain", "del", "nowhere.test"], "unknown domain nowhere.test")
        self.assertEqual(self.ok("domain", "del", "dom2.test"),
                         "deleted domain dom2.test\n")
        self.assertNotIn("dom2.test", self.ok("alias", "list"))

    def test_users(self):
        self.domain("users.test")
        self.refused(["user", "add", "bad@@users.test"],
                     "\"bad@@users.test\" is not a valid address", stdin=b"x\n")
        self.refused(["user", "add", "a@nowhere.test"], "unknown domain nowhere.test",
                     stdin=(PW + "\n").encode())
        self.refused(["user", "add", "a@users.test"], "password too short (at least "
                     "12 characters)", stdin=b"short\n")
        self.refused(["user", "add", "longlocalpart@users.test"],
                     "password is the address's local part",
                     stdin=b"LongLocalPart\n")
        self.refused(["user", "add", "a@users.test"], "no password on standard input",
                     stdin=b"")
        self.refused(["user", "add", "a@users.test", "--quota", "lots"],
                     "--quota: \"lots\" is not a size (bytes, with K, M, G or T, "
                     "or none)", stdin=(PW + "\n").encode())
        self.refused(["user", "add", "a@users.test"], "password longer than 1024 "
                     "bytes", stdin=b"x" * 2000 + b"\n")
        out = self.user("A@users.test", PW, "--quota", "2G")
        self.assertRegex(out, r"^added a@users\.test: account \d+, uid \d+, quota 2G\n")
        self.refused(["user", "add", "a@users.test"], "a@users.test is already an "
                     "account", stdin=(PW + "\n").encode())
        self.refused(["user", "add", "abuse@users.test"], "abuse@users.test is "
                     "already an alias (of a@users.test)", stdin=(PW + "\n").encode())
        # --password-file: the first line only
        pwf = self.write("pw-b", PW2 + "\nsecond line\n")
        out = self.ok("user", "add", "b@users.test", "--password-file", pwf,
                      stdin=None)
        self.assertRegex(out, r"^added b@users\.test: account \d+")
        self.assertNotIn("go to", out)
        self.refused(["user", "add", "c@users.test", "--password-file",
                      os.path.join(self.tmp, "missing")],
                     "%s: No such file or directory" % os.path.join(self.tmp,
                                                                     "missing"))
        listing = self.ok("user", "list")
        self.assertRegex(listing, r"^ADDRESS +ID +UID +QUOTA +USAGE +APP-PASSWORDS "
                         r"+RECOVERY\n")
        m = re.search(r"\na@users\.test +(\d+) +(\d+) +2G +0 +0 +no\n", listing)
        self.assertTrue(m, listing)
        self.assertEqual(int(m.group(2)), 200000 + int(m.group(1)))
        self.assertRegex(listing, r"\nb@users\.test +\d+ +\d+ +none +0 +0 +no\n")
        # both unlock: passwd with the right current password works
        self.ok("user", "passwd", "b@users.test", "--password-file", pwf,
                "--new-password-file", self.write("pw-b3", PW3 + "\n"), stdin=None)
        # del
        self.refused(["user", "del", "a@users.test"], "a@users.test receives "
                     "postmaster@users.test: point it to another account first "
                     "(alias add --replace)")
        self.refused(["user", "del", "zz@users.test"], "no account zz@users.test")
        out = self.ok("user", "del", "b@users.test")
        bid = re.search(r"account (\d+)", out).group(1)
        self.assertEqual(out, "deleted b@users.test (account %s)\nits mail folder "
                         "%s/mail/%s is left as it is: remove it when it is no "
                         "longer needed\n" % (bid, self.data, bid))
        self.assertNotIn("b@users.test", self.ok("user", "list"))

    def test_passwd_and_app_passwords(self):
        self.domain("app.test")
        self.user("u@app.test")
        self.refused(["user", "passwd", "u@app.test"], "wrong password for u@app.test",
                     stdin=("wrong password!!\n%s\n" % PW2).encode())
        self.refused(["user", "passwd", "u@app.test"], "new password too short (at "
                     "least 12 characters)", stdin=("%s\nshort\n" % PW).encode())
        self.refused(["user", "passwd", "nobody@app.test"], "no account "
                     "nobody@app.test", stdin=("%s\n%s\n" % (PW, PW2)).encode())
        self.refused(["user", "app-password", "add", "u@app.test", "phone"],
                     "wrong password for u@app.test", stdin=b"not the password\n")
        out = self.ok("user", "app-password", "add", "u@app.test", "phone",
                      stdin=(PW + "\n").encode())
        m = re.fullmatch(r'app password "phone" for u@app\.test \(shown only this '
                         r'once\):\n([a-z2-9]{4}(?:-[a-z2-9]{4}){4})\n', out)
        self.assertTrue(m, out)
        phone = m.group(1)
        self.refused(["user", "app-password", "add", "u@app.test", "phone"],
                     "u@app.test already has an app password \"phone\"",
                     stdin=(PW + "\n").encode())
        # an app password does not change the password
        self.refused(["user", "passwd", "u@app.test"], "wrong password for u@app.test",
                     stdin=("%s\n%s\n" % (phone, PW2)).encode())
        pwf = self.write("pw-u", PW + "\n")
        out = self.ok("user", "app-password", "add", "u@app.test", "laptop",
                      "--password-file", pwf, stdin=None)
        laptop = out.splitlines()[1]
        self.assertNotEqual(phone, laptop)
        listing = self.ok("user", "app-password", "list", "u@app.test")
        self.assertRegex(listing, r"^LABEL +ID +CREATED +REVOKED\nphone +\d+ +"
                         r"\d{4}-\d\d-\d\dT\d\d:\d\dZ +-\nlaptop +\d+ ")
        self.assertRegex(self.ok("user", "list"), r"\nu@app\.test +\d+ +\d+ +none "
                         r"+0 +2 +no\n")
        # passwd: current then new on stdin; app passwords keep working
        out = self.ok("user", "passwd", "u@app.test",
                      stdin=("%s\n%s\n" % (PW, PW2)).encode())
        self.assertEqual(out, "changed the password of u@app.test (its app "
                         "passwords keep working)\n")
        self.refused(["user", "app-password", "add", "u@app.test", "tablet"],
                     "wrong password for u@app.test", stdin=(PW + "\n").encode())
        self.ok("user", "app-password", "add", "u@app.test", "tablet",
                stdin=(PW2 + "\n").encode())
        # the keys still unwrap: the library is tested in test_accounts;
        # here, a passwd with the new password works
        self.ok("user", "passwd", "u@app.test", stdin=("%s\n%s\n" % (PW2, PW3)).encode())
        self.refused(["user", "app-password", "revoke", "u@app.test", "nope"],
                     "u@app.test has no app password \"nope\"")
        self.assertEqual(self.ok("user", "app-password", "revoke", "u@app.test",
                                 "phone"),
                         "revoked the app password \"phone\" of u@app.test\n")
        listing = self.ok("user", "app-password", "list", "u@app.test")
        self.assertRegex(listing, r"\nphone +\d+ +\S+ +\d{4}-\d\d-\d\dT\d\d:\d\dZ\n")
        self.assertRegex(self.ok("user", "list"), r"\nu@app\.test +\d+ +\d+ +none "
                         r"+0 +2 +no\n")

    def test_aliases(self):
        self.domain("al.test")
        self.user("x@al.test")
        self.user("y@al.test")
        self.refused(["alias", "add", "info@al.test", "nobody@al.test"],
                     "no account nobody@al.test")
        self.refused(["alias", "add", "info@al.test", "postmaster@al.test"],
                     "postmaster@al.test is an alias, not an account (aliases do "
                     "not chain)")
        self.refused(["alias", "add", "y@al.test", "x@al.test"], "y@al.test is an "
                     "account")
        self.refused(["alias", "add", "info@nowhere.test", "x@al.test"],
                     "unknown domain nowhere.test")
        self.assertEqual(self.ok("alias", "add", "Info@al.test", "x@al.test"),
                         "info@al.test goes to x@al.test\n")
        self.refused(["alias", "add", "info@al.test", "y@al.test"], "info@al.test is "
                     "already an alias (of x@al.test)")
        self.ok("alias", "add", "info@al.test", "y@al.test", "--replace")
        self.assertRegex(self.ok("alias", "list"), r"\ninfo@al\.test +y@al\.test\n")
        self.refused(["alias", "del", "postmaster@al.test"], "postmaster@al.test "
                     "cannot be deleted while domain al.test exists (point it "
                     "elsewhere with alias add --replace)")
        self.ok("alias", "add", "--replace", "postmaster@al.test", "y@al.test")
        self.ok("alias", "add", "--replace", "abuse@al.test", "y@al.test")
        out = self.ok("user", "del", "x@al.test")
        self.assertTrue(out.startswith("deleted x@al.test (account "), out)
        self.assertEqual(self.ok("alias", "del", "info@al.test"),
                         "deleted alias info@al.test\n")
        self.refused(["alias", "del", "info@al.test"], "no alias info@al.test")

    def test_recovery(self):
        self.domain("rec.test")
        self.user("early@rec.test")
        pub = os.path.join(self.tmp, "recovery.pub")
        priv = os.path.join(self.tmp, "recovery.key")
        self.refused(["recovery", "init", priv], "%s has no recovery-key: give the "
                     "public key file too (recovery init PRIVATE-FILE PUBLIC-FILE)"
                     % self.inst.conf)
        out = self.ok("recovery", "init", priv, pub)
        self.assertIn("wrote the recovery PRIVATE key to %s: move it offline now"
                      % priv, out)
        self.assertIn('add "recovery-key %s" to %s' % (pub, self.inst.conf), out)
        self.assertEqual(stat.S_IMODE(os.stat(priv).st_mode), 0o600)
        self.assertRegex(open(pub).read(), r"^sealpost-recovery-public [0-9a-f]{64}\n$")
        self.assertRegex(open(priv).read(), r"^sealpost-recovery-private [0-9a-f]{64}\n$")
        self.refused(["recovery", "init", priv + "2", pub], "%s exists: refusing to "
                     "overwrite it" % pub)
        self.assertFalse(os.path.exists(priv + "2"))
        # a second, wrong key pair
        wpub, wpriv = pub + ".wrong", priv + ".wrong"
        self.ok("recovery", "init", wpriv, wpub)

        conf = self.other_conf("rec.conf", add=["recovery-key %s" % pub])
        bad = self.other_conf("badrec.conf", add=["recovery-key %s" % priv])
        self.refused(["user", "add", "r@rec.test"], "recovery-key %s is the recovery "
                     "PRIVATE key: it belongs offline, not in recovery-key" % priv,
                     conf=bad, stdin=(PW + "\n").encode())
        out = self.ok("user", "add", "r@rec.test", conf=conf,
                      stdin=(PW + "\n").encode())
        self.assertIn("its private key is also sealed to the recovery key", out)
        self.assertNotIn("NO RECOVERY KEY", out)
        self.ok("user", "app-password", "add", "r@rec.test", "phone", conf=conf,
                stdin=(PW + "\n").encode())
        listing = self.ok("user", "list", conf=conf)
        self.assertRegex(listing, r"\nr@rec\.test +\d+ +\d+ +none +0 +1 +yes\n")
        self.assertRegex(listing, r"\nearly@rec\.test +\d+ +\d+ +none +0 +0 +no\n")
        self.assertRegex(self.ok("user", "list"), r"\nr@rec\.test .* old-key\n")

        self.refused(["user", "reset-password", "r@rec.test", "--recovery-key",
                      wpriv], "wrong recovery key for r@rec.test", conf=conf,
                     stdin=(PW2 + "\n").encode())
        self.refused(["user", "reset-password", "r@rec.test", "--recovery-key",
                      pub], "%s is the recovery public key: give the private key "
                     "file" % pub, conf=conf, stdin=(PW2 + "\n").encode())
        self.refused(["user", "reset-password", "early@rec.test", "--recovery-key",
                      priv], "early@rec.test has no recovery copy of its key (made "
                     "before a recovery key was configured)", conf=conf,
                     stdin=(PW2 + "\n").encode())
        out = self.ok("user", "reset-password", "r@rec.test", "--recovery-key", priv,
                      conf=conf, stdin=(PW2 + "\n").encode())
        self.assertEqual(out, "set a new password for r@rec.test with the recovery "
                         "key (its app passwords keep working)\n")
        # the old password is gone, the new one works
        self.refused(["user", "passwd", "r@rec.test"], "wrong password for "
                     "r@rec.test", conf=conf, stdin=("%s\n%s\n" % (PW, PW3)).encode())
        self.ok("user", "passwd", "r@rec.test", conf=conf,
                stdin=("%s\n%s\n" % (PW2, PW3)).encode())
        # an older account is sealed when its password changes
        self.ok("user", "passwd", "early@rec.test", conf=conf,
                stdin=("%s\n%s\n" % (PW, PW2)).encode())
        self.assertRegex(self.ok("user", "list", conf=conf),
                         r"\nearly@rec\.test +\d+ +\d+ +none +0 +0 +yes\n")

    def test_password_not_in_argv(self):
        self.domain("ps.test")
        secret = "sekrit-password-in-the-pipe-42"
        p = subprocess.Popen([self.bin, "-c", self.inst.conf, "user", "add",
                              "ps@ps.test"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            time.sleep(0.3)
            with open("/proc/%d/cmdline" % p.pid, "rb") as f:
                argv = f.read()
            self.assertIn(b"ps@ps.test", argv)
            self.assertNotIn(secret.encode(), argv)
            out, err = p.communicate((secret + "\n").encode(), timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, err)
        self.assertNotIn(secret.encode(), out + err)
        # nor in users.db, in any form
        with open(self.db, "rb") as f:
            self.assertNotIn(secret.encode(), f.read())

    def test_users_db_mode(self):
        self.domain("mode.test")
        self.user("m@mode.test")
        for name in os.listdir(self.data):
            if name.startswith("users.db"):
                st = os.stat(os.path.join(self.data, name))
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, name)
                self.assertEqual(st.st_uid, 0)

    def test_prompt(self):
        """At a terminal: no echo, a new password twice, a mismatch refused."""
        self.domain("tty.test")

        def converse(args, answers):
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(self.bin, [self.bin, "-c", self.inst.conf] + args)
            seen = b""
            try:
                for prompt, answer in answers:
                    deadline = time.monotonic() + 20
                    while prompt not in seen and time.monotonic() < deadline:
                        r, _, _ = select.select([fd], [], [], 0.5)
                        if r:
                            try:
                                seen += os.read(fd, 4096)
                            except OSError:
                                break
                    self.assertIn(prompt, seen)
                    seen = seen[seen.index(prompt) + len(prompt):]
                    os.write(fd, answer + b"\n")
                while True:
                    r, _, _ = select.select([fd], [], [], 20)
                    if not r:
                        break
                    try:
                        d = os.read(fd, 4096)
                    except OSError:
                        break
                    if not d:
                        break
                    seen += d
            finally:
                _, st = os.waitpid(pid, 0)
                os.close(fd)
            return os.waitstatus_to_exitcode(st), seen.decode()

        rc, out = converse(["user", "add", "t@tty.test"],
                           [(b"Password for t@tty.test: ", PW.encode()),
                            (b"Repeat the password: ", b"something else entirely")])
        self.assertEqual(rc, 1)
        self.assertIn("sealpostctl: passwords do not match", out)
        self.assertNotIn(PW, out)
        rc, out = converse(["user", "add", "t@tty.test"],
                           [(b"Password for t@tty.test: ", PW.encode()),
                            (b"Repeat the password: ", PW.encode())])
        self.assertEqual(rc, 0, out)
        self.assertIn("added t@tty.test", out)
        self.assertNotIn(PW, out)
        rc, out = converse(["user", "passwd", "t@tty.test"],
                           [(b"Current password for t@tty.test: ", PW.encode()),
                            (b"New password for t@tty.test: ", PW2.encode()),
                            (b"Repeat the new password: ", PW2.encode())])
        self.assertEqual(rc, 0, out)
        self.assertNotIn(PW2, out)


if __name__ == "__main__":
    unittest.main()
