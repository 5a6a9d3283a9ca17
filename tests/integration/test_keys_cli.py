"""sealpostctl key: the organization's OpenPGP keyring in
DATA_DIR/keys/gnupg, through the real command against a real instance
folder (sealpostd need not run).  Keys are made by the real gpg in a
temporary home (ed25519/cv25519, about 50 ms each).  Every refusal leaves
the keyring byte for byte as it was; every command leaves no gpg-agent
and no temporary home behind; the keyring's files stay root:_sp_pgp,
the folder 0750 and the files 0640, readable by the pgp service's user
and by nobody else.

key publish|unpublish|published: the Web Key Directory tree DATA_DIR/wkd
(draft-koch-openpgp-webkey-service, advanced layout), checked with gpg
itself: the file at the hash gpg-wks-client computes, binary, only the
published address's user IDs and no certification by another key, root's
0755/0644, the empty policy file; refusals with their exact lines."""

import grp
import os
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

from sealpost_test import TOP, Instance
from https_server import wkd_hash

MiB = 1024 * 1024
WKS_CLIENT = "/usr/lib/gnupg/gpg-wks-client"


def make_instance(name):
    """The instance folder and sealpost.conf that `contrib/dev instance`
    makes (as Instance.start does before it runs sealpostd)."""
    inst = Instance(name)
    env = dict(os.environ, SEALPOST_DEV_DIR=inst.dir,
               SEALPOST_PORT_OFFSET=str(inst.offset),
               SEALPOST_DEV_PREPARED="1", SEALPOST_BUILD_DIR=inst.build)
    subprocess.run([os.path.join(TOP, "contrib", "dev"), "instance"],
                   env=env, check=True, capture_output=True)
    return inst


def agents():
    """{pid: command line} of every gpg-agent running now."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "gpg-agent" in cmd.split(" ")[0]:
            out[int(pid)] = cmd
    return out


def tmp_homes():
    return {n for n in os.listdir("/tmp") if n.startswith("spkey.")}


class KeysCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = make_instance("keys")
        cls.data = os.path.join(cls.inst.dir, "data")
        cls.keys = os.path.join(cls.data, "keys")
        cls.ring = os.path.join(cls.keys, "gnupg")
        cls.bin = os.path.join(cls.inst.build, "sealpostctl")
        cls.tmp = cls.inst.tmp
        # short: gpg-agent puts its sockets in the home (RECIPES.md 4)
        cls.gen = tempfile.mkdtemp(prefix="spg.", dir="/tmp")
        t0 = time.monotonic()
        try:
            cls.make_keys()
        except BaseException:
            cls.tearDownClass()     # not run when setUpClass fails
            raise
        cls.keygen_seconds = time.monotonic() - t0

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["gpgconf", "--homedir", cls.gen, "--kill", "gpg-agent"],
                       capture_output=True)
        shutil.rmtree(cls.gen, ignore_errors=True)
        cls.inst.cleanup()

    def setUp(self):
        # every test starts with no keyring: sealpostctl makes it again
        shutil.rmtree(self.ring, ignore_errors=True)
        shutil.rmtree(os.path.join(self.data, "wkd"), ignore_errors=True)

    # -- keys made with gpg -----------------------------------------------------
    @classmethod
    def gpg(cls, *args, out=None, home=None):
        r = subprocess.run(["gpg", "--homedir", home or cls.gen, "--batch",
                            "--quiet", "--no-tty", "--pinentry-mode", "loopback",
                            "--passphrase", ""] + list(args),
                           capture_output=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("gpg %s: %s" % (" ".join(args), r.stderr.decode()))
        if out is not None:
            with open(out, "wb") as f:
                f.write(r.stdout)
        return r.stdout

    @classmethod
    def fpr(cls, address, home=None):
        out = cls.gpg("--with-colons", "--list-keys", "<%s>" % address,
                      home=home).decode()
        return [l.split(":")[9] for l in out.splitlines() if l.startswith("fpr:")][0]

    @classmethod
    def make_keys(cls):
        g = cls.gpg
        cls.file = {}
        g("--quick-gen-key", "Alice <alice@example.test>", "future-default",
          "default", "never")
        g("--quick-gen-key", "Bob <bob@example.test>", "future-default",
          "default", "never")
        g("--faked-system-time", "20200101T000000!", "--quick-gen-key",
          "Carol <carol@example.test>", "future-default", "default", "1d")
        g("--quick-gen-key", "Dave <dave@example.test>", "future-default",
          "default", "never")
        g("--quick-gen-key", "Eve <eve@example.test>", "ed25519", "default",
          "never")
        g("--quick-gen-key", "Frank <frank@example.test>", "future-default",
          "default", "never")
        g("--quick-gen-key", "Evil \x1b[31mRed\x1b[0m \\ \x07 <evil@example.test>",
          "future-default", "default", "never")
        # Grace: two addresses (one private), certified by Alice
        g("--quick-gen-key", "Grace <grace@example.test>", "future-default",
          "default", "never")
        cls.f = {a: cls.fpr(a + "@example.test")
                 for a in ("alice", "bob", "carol", "dave", "eve", "frank", "evil",
                           "grace")}
        g("--quick-add-uid", cls.f["grace"], "Grace Private <grace@private.test>")
        g("--default-key", cls.f["alice"], "--quick-sign-key", cls.f["grace"])
        cls.file["dave-unrevoked"] = os.path.join(cls.tmp, "dave-unrevoked.asc")
        g("--armor", "--export", cls.f["dave"], out=cls.file["dave-unrevoked"])
        # Dave revoked with the certificate gpg stored when it made the key
        with open(os.path.join(cls.gen, "openpgp-revocs.d",
                               cls.f["dave"] + ".rev")) as f:
            cert = f.read().replace(":-----BEGIN", "-----BEGIN")
        rev = os.path.join(cls.tmp, "dave.rev")
        with open(rev, "w") as f:
            f.write(cert)
        g("--import", rev)
        for a in ("alice", "bob", "carol", "dave", "eve", "frank", "evil"):
            cls.file[a] = os.path.join(cls.tmp, a + ".asc")
            g("--armor", "--export", cls.f[a], out=cls.file[a])
        # with Alice's key in the same file, import keeps her certification
        cls.file["alice+grace"] = os.path.join(cls.tmp, "alice+grace.asc")
        g("--armor", "--export", cls.f["alice"], cls.f["grace"],
          out=cls.file["alice+grace"])
        cls.file["bob.gpg"] = os.path.join(cls.tmp, "bob.gpg")
        g("--export", cls.f["bob"], out=cls.file["bob.gpg"])
        cls.file["alice-secret"] = os.path.join(cls.tmp, "alice-secret.asc")
        g("--armor", "--export-secret-keys", cls.f["alice"],
          out=cls.file["alice-secret"])
        cls.file["alice-ssb"] = os.path.join(cls.tmp, "alice-ssb.gpg")
        g("--export-secret-subkeys", cls.f["alice"], out=cls.file["alice-ssb"])
        with open(cls.file["alice"], "rb") as a, open(cls.file["eve"], "rb") as e:
            both = a.read() + e.read()
        cls.file["alice+eve"] = os.path.join(cls.tmp, "alice+eve.asc")
        with open(cls.file["alice+eve"], "wb") as f:
            f.write(both)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    # -- the command ------------------------------------------------------------
    def ctl(self, *args, stdin=b""):
        """sealpostctl -c CONF key ARGS: (status, stdout, stderr) as text;
        no gpg-agent and no temporary home may be left by it."""
        before_agents, before_homes = agents(), tmp_homes()
        r = subprocess.run([self.bin, "-c", self.inst.conf, "key"] + list(args),
                           input=stdin, capture_output=True, timeout=60)
        # sealpostctl's own temporary homes: other gpg-agents on the
        # machine (another test run's) are not its doing
        left = {p: c for p, c in agents().items()
                if p not in before_agents and self.gen not in c
                and ("/tmp/spkey." in c or "/tmp/spsign." in c
                     or self.tmp in c)}
        self.assertEqual(left, {}, "gpg-agent left by key %s" % " ".join(args))
        self.assertEqual(tmp_homes() - before_homes, set(),
                         "temporary home left by key %s" % " ".join(args))
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def ok(self, *args, stdin=b""):
        rc, out, err = self.ctl(*args, stdin=stdin)
        self.assertEqual((rc, err), (0, ""), "key %s" % " ".join(args))
        return out

    def keyring(self):
        """pubring.kbx as it is (None: no keyring yet)."""
        try:
            with open(os.path.join(self.ring, "pubring.kbx"), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def refused(self, args, lines, stdin=b"", status=1):
        """Exactly these stderr lines, nothing on stdout, the keyring
        unchanged."""
        self.ok("list")                 # the keyring exists from here on
        before = self.keyring()
        rc, out, err = self.ctl(*args, stdin=stdin)
        self.assertEqual((rc, out), (status, ""), err)
        self.assertEqual(err, "".join("sealpostctl: %s\n" % l for l in lines))
        self.assertEqual(self.keyring(), before)
        return err

    def imported(self, out, word, name, fpr, uids, expires="never"):
        today = time.strftime("%Y-%m-%d", time.gmtime())
        block = "%s %s\n%s  algorithm: ed25519/cv25519\n  created:   %s\n" \
            "  expires:   %s\n" % (word, fpr, "".join("  user ID:   %s\n" % u
                                                       for u in uids),
                                   today, expires)
        self.assertIn(block, out, name)

    def listed(self):
        """key list as {(address, fingerprint): status}."""
        out = self.ok("list")
        if out == "the keyring is empty\n":
            return {}
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["ADDRESS", "FINGERPRINT", "ALGORITHM",
                                            "CREATED", "EXPIRES", "STATUS"])
        res = {}
        for l in lines[1:]:
            w = l.split(None, 5)
            res[(w[0], w[1])] = w[5]
        return res

    # -- the tests --------------------------------------------------------------
    def test_import_armored_and_binary(self):
        out = self.ok("import", self.file["alice"])
        self.imported(out, "imported", "alice", self.f["alice"],
                      ["Alice <alice@example.test>"])
        # binary, from a file and from standard input
        out = self.ok("import", self.file["bob.gpg"])
        self.imported(out, "imported", "bob", self.f["bob"],
                      ["Bob <bob@example.test>"])
        self.ok("remove", self.f["bob"])
        with open(self.file["bob.gpg"], "rb") as f:
            out = self.ok("import", "-", stdin=f.read())
        self.imported(out, "imported", "bob", self.f["bob"],
                      ["Bob <bob@example.test>"])
        self.assertEqual(self.listed(), {
            ("alice@example.test", self.f["alice"]): "usable",
            ("bob@example.test", self.f["bob"]): "usable"})

    def test_list_show_export(self):
        self.assertEqual(self.ok("list"), "the keyring is empty\n")
        self.ok("import", self.file["alice"])
        self.ok("import", self.file["bob"])
        today = time.strftime("%Y-%m-%d", time.gmtime())
        out = self.ok("list").splitlines()
        self.assertEqual(len(out), 3)
        self.assertEqual(out[1].split(), ["alice@example.test", self.f["alice"],
                                          "ed25519/cv25519", today, "never",
                                          "usable"])
        self.assertEqual(out[2].split()[:2], ["bob@example.test", self.f["bob"]])
        # one address, in any case
        out = self.ok("list", "BOB@example.test").splitlines()
        self.assertEqual([l.split()[1] for l in out[1:]], [self.f["bob"]])
        rc, out, err = self.ctl("list", "nobody@example.test")
        self.assertEqual((rc, out, err),
                         (1, "", "sealpostctl: no key for nobody@example.test\n"))
        # show by fingerprint (either case) and by address
        out = self.ok("show", self.f["alice"].lower())
        self.assertTrue(out.startswith(
            "key:       %s\nstatus:    usable\nalgorithm: ed25519/cv25519\n"
            "created:   %s\nexpires:   never\nuser ID:   Alice <alice@example.test>\n"
            "primary:   %s ed25519 sign,certify, created %s, expires never\n"
            "subkey:    " % (self.f["alice"], today, self.f["alice"], today)), out)
        self.assertIn(" cv25519 encrypt, created %s, expires never\n" % today, out)
        out = self.ok("show", "alice@example.test")
        self.assertTrue(out.endswith("\nmail to alice@example.test is encrypted "
                                     "to %s\n" % self.f["alice"]), out)
        rc, out, err = self.ctl("show", "nobody@example.test")
        self.assertEqual((rc, err), (1, "sealpostctl: no key for nobody@example.test\n"))
        rc, out, err = self.ctl("show", "0" * 40)
        self.assertEqual((rc, err), (1, "sealpostctl: %s is not in the keyring\n"
                                     % ("0" * 40)))
        # export, by fingerprint and by address: a fresh gpg home takes it
        for arg in (self.f["alice"], "alice@example.test"):
            rc, out, err = self.ctl("export", arg)
            self.assertEqual((rc, err), (0, ""))
            self.assertTrue(out.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----\n"))
            self.assertTrue(out.endswith("-----END PGP PUBLIC KEY BLOCK-----\n"))
            self.assertNotIn("PRIVATE", out)
            home = tempfile.mkdtemp(prefix="spe.", dir="/tmp")
            try:
                path = self.write("export.asc", out.encode())
                self.gpg("--import", path, home=home)
                self.assertEqual(self.fpr("alice@example.test", home=home),
                                 self.f["alice"])
                listing = self.gpg("--with-colons", "--list-keys", home=home).decode()
                self.assertNotIn(self.f["bob"], listing)
            finally:
                subprocess.run(["gpgconf", "--homedir", home, "--kill",
                                "gpg-agent"], capture_output=True)
                shutil.rmtree(home)
        rc, out, err = self.ctl("export", "nobody@example.test")
        self.assertEqual((rc, out, err),
                         (1, "", "sealpostctl: no key for nobody@example.test\n"))

    def test_secret_key_refused(self):
        for name in ("alice-secret", "alice-ssb"):
            path = self.file[name]
            self.refused(["import", path],
                         ["%s holds a secret key: import public keys only (gpg "
                          "--export, not --export-secret-keys)" % path])
        with open(self.file["alice-secret"], "rb") as f:
            self.refused(["import", "-"], ["standard input holds a secret key: "
                                           "import public keys only (gpg --export, "
                                           "not --export-secret-keys)"],
                         stdin=f.read())
        self.assertEqual(self.listed(), {})

    def test_unusable_keys_refused(self):
        for name, why in (("eve", "no encryption subkey"),
                          ("carol", "expired on 2020-01-02"),
                          ("dave", "revoked")):
            path = self.file[name]
            self.refused(["import", path], ["%s: %s: %s" % (path, self.f[name], why),
                                            "%s: nothing imported" % path])
        self.assertEqual(self.listed(), {})

    def test_corrupt_input(self):
        junk = self.write("junk.txt", b"hello, not a key\n")
        self.refused(["import", junk], ["%s: no OpenPGP key in it" % junk])
        empty = self.write("empty.asc", b"")
        self.refused(["import", empty], ["%s: no OpenPGP key in it" % empty])
        with open(self.file["alice"], "rb") as f:
            armored = f.read()
        cut = self.write("cut.asc", armored[:300] +
                         b"\n-----END PGP PUBLIC KEY BLOCK-----\n")
        self.refused(["import", cut], ["%s: no OpenPGP key in it" % cut])
        with open(self.file["bob.gpg"], "rb") as f:
            binary = f.read()
        cut = self.write("cut.gpg", binary[:100])
        self.refused(["import", cut], ["%s: 1 key in it without a valid user ID"
                                       % cut])
        # a flipped byte: whatever gpg makes of it, refused, nothing taken
        flipped = bytearray(binary)
        flipped[len(flipped) // 3] ^= 0x55
        bad = self.write("flipped.gpg", bytes(flipped))
        before = self.keyring()
        rc, out, err = self.ctl("import", bad)
        self.assertEqual((rc, out), (1, ""), err)
        self.assertTrue(err and all(l.startswith("sealpostctl: %s" % bad)
                                    for l in err.splitlines()), err)
        self.assertEqual(self.keyring(), before)
        missing = os.path.join(self.tmp, "missing.asc")
        self.refused(["import", missing],
                     ["%s: No such file or directory" % missing])
        self.refused(["import", self.tmp], ["%s: Is a directory" % self.tmp])
        self.assertEqual(self.listed(), {})

    def test_size_limit(self):
        with open(self.file["alice"], "rb") as f:
            armored = f.read()
        # a key, then blank lines up to exactly 1 MiB: read whole, taken
        at_limit = self.write("limit.asc", armored + b"\n" * (MiB - len(armored)))
        self.assertEqual(os.path.getsize(at_limit), MiB)
        out = self.ok("import", at_limit)
        self.imported(out, "imported", "alice", self.f["alice"],
                      ["Alice <alice@example.test>"])
        self.ok("remove", self.f["alice"])
        over = self.write("over.asc", armored + b"\n" * (MiB + 1 - len(armored)))
        self.refused(["import", over], ["%s: larger than 1 MiB: not a public key "
                                        "file" % over])
        self.refused(["import", "-"], ["standard input: larger than 1 MiB: not a "
                                       "public key file"],
                     stdin=b"x" * (4 * MiB))
        self.assertEqual(self.listed(), {})

    def test_one_bad_key_refuses_the_file(self):
        path = self.file["alice+eve"]
        self.refused(["import", path], ["%s: %s: no encryption subkey"
                                        % (path, self.f["eve"]),
                                        "%s: nothing imported" % path])
        self.assertEqual(self.listed(), {})

    def test_duplicate(self):
        self.ok("import", self.file["alice"])
        self.refused(["import", self.file["alice"]],
                     ["%s is already in the keyring" % self.f["alice"]])
        # a file with a known key and a new one: the new one is taken
        both = self.write("alice+bob.asc", open(self.file["alice"], "rb").read() +
                          open(self.file["bob"], "rb").read())
        rc, out, err = self.ctl("import", both)
        self.assertEqual((rc, err), (1, "sealpostctl: %s is already in the keyring\n"
                                     % self.f["alice"]))
        self.imported(out, "imported", "bob", self.f["bob"], ["Bob <bob@example.test>"])
        self.assertNotIn(self.f["alice"], out)
        self.assertEqual(set(self.listed()), {("alice@example.test", self.f["alice"]),
                                              ("bob@example.test", self.f["bob"])})

    def test_updated(self):
        home = tempfile.mkdtemp(prefix="spu.", dir="/tmp")
        try:
            # a copy of Frank's key that changes in its own home
            subprocess.run(["cp", "-a", self.gen + "/.", home], check=True)
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"],
                           capture_output=True)
            self.ok("import", self.file["frank"])
            self.gpg("--quick-add-uid", self.f["frank"],
                     "Frank Two <frank2@example.test>", home=home)
            path = os.path.join(self.tmp, "frank2.gpg")
            self.gpg("--export", self.f["frank"], out=path, home=home)
            out = self.ok("import", path)
            self.imported(out, "updated", "frank", self.f["frank"],
                          ["Frank Two <frank2@example.test>",
                           "Frank <frank@example.test>"])
            self.assertEqual(set(self.listed()),
                             {("frank@example.test", self.f["frank"]),
                              ("frank2@example.test", self.f["frank"])})
            # a new expiry
            self.gpg("--quick-set-expire", self.f["frank"], "2y", home=home)
            self.gpg("--export", self.f["frank"], out=path, home=home)
            out = self.ok("import", path)
            exp = self.gpg("--with-colons", "--list-keys", self.f["frank"],
                           home=home).decode()
            exp = int([l for l in exp.splitlines() if l.startswith("pub:")][0]
                      .split(":")[6])
            self.imported(out, "updated", "frank", self.f["frank"],
                          ["Frank Two <frank2@example.test>",
                           "Frank <frank@example.test>"],
                          expires=time.strftime("%Y-%m-%d", time.gmtime(exp)))
            # the same again: nothing new
            self.refused(["import", path],
                         ["%s is already in the keyring" % self.f["frank"]])
        finally:
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"],
                           capture_output=True)
            shutil.rmtree(home)

    def test_revocation_of_a_known_key(self):
        """A revoked key is refused as a new key, but the revocation of a
        key the keyring has is an update: it must get in."""
        self.ok("import", self.file["dave-unrevoked"])
        self.assertEqual(self.listed(),
                         {("dave@example.test", self.f["dave"]): "usable"})
        out = self.ok("import", self.file["dave"])
        self.imported(out, "updated", "dave", self.f["dave"],
                      ["Dave <dave@example.test>"])
        self.assertTrue(out.endswith("  status:    not usable: revoked\n"), out)
        self.assertEqual(self.listed(),
                         {("dave@example.test", self.f["dave"]): "revoked"})
        out = self.ok("show", "dave@example.test")
        self.assertIn("status:    not usable: revoked\n", out)
        self.assertIn("user ID:   Dave <dave@example.test> (revoked)\n", out)
        self.assertTrue(out.endswith("\nmail to dave@example.test: no usable key "
                                     "(the key for dave@example.test is not "
                                     "usable: revoked)\n"), out)

    def test_remove(self):
        self.ok("import", self.file["alice"])
        self.ok("import", self.file["bob"])
        self.refused(["remove", "alice@example.test"],
                     ["key remove takes a fingerprint (40 hex digits, see "
                      "sealpostctl key list), not an address"], status=2)
        self.refused(["remove", self.f["alice"][:16]],
                     ["key remove takes a fingerprint (40 hex digits, see "
                      "sealpostctl key list)"], status=2)
        sub = [l.split()[1] for l in self.ok("show", self.f["alice"]).splitlines()
               if l.startswith("subkey:")][0]
        self.refused(["remove", sub], ["%s is a subkey of %s: remove takes the "
                                       "primary key's fingerprint"
                                       % (sub, self.f["alice"])])
        self.assertEqual(self.ok("remove", self.f["alice"].lower()),
                         "removed %s\n" % self.f["alice"])
        self.assertEqual(set(self.listed()), {("bob@example.test", self.f["bob"])})
        # compacted: the removed key's user ID is gone from the file too
        # (the pgp service checks gpg's "no key" against it)
        self.assertNotIn(b"<alice@example.test>", self.keyring())
        self.assertIn(b"<bob@example.test>", self.keyring())
        self.refused(["remove", self.f["alice"]],
                     ["%s is not in the keyring" % self.f["alice"]])
        self.ok("remove", self.f["bob"])
        self.assertEqual(self.ok("list"), "the keyring is empty\n")
        self.assertEqual(len(self.keyring()), 32)      # an empty keybox

    def test_hostile_user_ids_escaped(self):
        out = self.ok("import", self.file["evil"])
        esc = "Evil \\x1b[31mRed\\x1b[0m \\x5c \\x07 <evil@example.test>"
        self.imported(out, "imported", "evil", self.f["evil"], [esc])
        for args in (("list",), ("show", "evil@example.test"),
                     ("show", self.f["evil"])):
            out = self.ok(*args)
            self.assertNotIn("\x1b", out)
            self.assertNotIn("\x07", out)
            if args[0] == "show":
                self.assertIn("user ID:   %s\n" % esc, out)
        self.assertIn("evil@example.test", self.ok("list"))

    def test_usage(self):
        usage = ("usage: sealpostctl [-c file] key import FILE|-\n"
                 "       sealpostctl [-c file] key list [ADDRESS]\n"
                 "       sealpostctl [-c file] key show FINGERPRINT|ADDRESS\n"
                 "       sealpostctl [-c file] key export FINGERPRINT|ADDRESS\n"
                 "       sealpostctl [-c file] key remove FINGERPRINT\n"
                 "       sealpostctl [-c file] key publish ADDRESS\n"
                 "       sealpostctl [-c file] key unpublish ADDRESS\n"
                 "       sealpostctl [-c file] key published\n"
                 "       sealpostctl [-c file] key pending [accept|reject ADDRESS]\n"
                 "       sealpostctl [-c file] key discovered\n"
                 "       sealpostctl [-c file] key forget ADDRESS\n"
                 "       sealpostctl [-c file] key import --signing FILE|-\n"
                 "       sealpostctl [-c file] key signing\n"
                 "       sealpostctl [-c file] key export --signing\n"
                 "       sealpostctl [-c file] key remove --signing\n")
        for args in ((), ("frob",), ("import",), ("import", "a", "b"),
                     ("show",), ("export",), ("remove",), ("list", "a", "b"),
                     ("publish",), ("publish", "a@b", "c"), ("unpublish",),
                     ("published", "a@example.test")):
            rc, out, err = self.ctl(*args)
            self.assertEqual((rc, out, err), (2, "", usage), args)
        for args, msg in ((("show", "alice"), "key show: not a fingerprint (40 hex "
                           "digits) or an address"),
                          (("export", "<alice@example.test>"), "key export: not a "
                           "fingerprint (40 hex digits) or an address"),
                          (("list", "a b@example.test"), "key list: not an address")):
            rc, out, err = self.ctl(*args)
            self.assertEqual((rc, out, err), (2, "", "sealpostctl: %s\n" % msg))

    def test_files_owner_and_mode(self):
        pgp_gid = grp.getgrnam("_sp_pgp").gr_gid

        def check():
            st = os.lstat(self.keys)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o700))
            st = os.lstat(self.ring)
            self.assertTrue(stat.S_ISDIR(st.st_mode))
            self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                             (0, pgp_gid, 0o750))
            # gpg never writes here: no backup, no trustdb, no lock, no socket
            self.assertEqual(sorted(os.listdir(self.ring)), ["gpg.conf", "pubring.kbx"])
            for name in ("gpg.conf", "pubring.kbx"):
                st = os.lstat(os.path.join(self.ring, name))
                self.assertTrue(stat.S_ISREG(st.st_mode))
                self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                                 (0, pgp_gid, 0o640), name)

        self.assertEqual(self.ok("list"), "the keyring is empty\n")
        check()
        with open(os.path.join(self.ring, "gpg.conf")) as f:
            conf = [l for l in f.read().splitlines() if not l.startswith("#")]
        self.assertEqual(conf, ["no-autostart", "trust-model always",
                                "no-permission-warning", "no-random-seed-file"])
        self.ok("import", self.file["alice"])
        check()
        self.ok("import", self.file["bob.gpg"])
        check()
        self.ok("remove", self.f["bob"])
        check()
        # the pgp service's user reads it (where it will see it: a bind mount,
        # since DATA_DIR is root's 0700), and finds Alice's key
        mnt = tempfile.mkdtemp(prefix="spm.", dir="/tmp")
        os.chmod(mnt, 0o755)
        try:
            r = subprocess.run(
                ["unshare", "-m", "sh", "-c",
                 'mount --bind "$1" "$2" && exec setpriv --reuid=_sp_pgp '
                 '--regid=_sp_pgp --clear-groups env -i gpg --homedir "$2" '
                 '--batch --with-colons --list-keys "<alice@example.test>"',
                 "sh", self.ring, mnt], capture_output=True, timeout=30)
            if r.returncode != 0 and b"mount" in r.stderr:
                self.skipTest("no mount namespace: %s" % r.stderr.decode())
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertIn(("fpr:::::::::%s:" % self.f["alice"]).encode(), r.stdout)
        finally:
            os.rmdir(mnt)
        check()
        # a keyring made wrong is refused, not repaired
        os.chmod(self.ring, 0o755)
        rc, out, err = self.ctl("list")
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err, "sealpostctl: the keyring: DATA_DIR/keys/gnupg exists "
                         "with owner 0:%d mode 0755, expected 0:%d 0750\n"
                         % (pgp_gid, pgp_gid))
        os.chmod(self.ring, 0o750)
        with open(os.path.join(self.ring, "gpg.conf"), "a") as f:
            f.write("keyserver hkps://keys.example\n")
        rc, out, err = self.ctl("import", self.file["bob"])
        self.assertEqual(rc, 1)
        self.assertIn("gpg.conf has a line sealpost did not write", err)

    # -- WKD: key publish, unpublish, published ---------------------------------
    def wkd_file(self, local, domain="example.test"):
        return os.path.join(self.data, "wkd", ".well-known", "openpgpkey", domain,
                            "hu", wkd_hash(local))

    def packets(self, path):
        """gpg --list-packets of a file: [(kind, detail)] for the user ID
        packets (their text) and signatures (the issuer's key id)."""
        out = self.gpg("--list-packets", path).decode(errors="replace")
        res = []
        for line in out.splitlines():
            if line.startswith(":user ID packet:"):
                res.append(("uid", line.split('"', 1)[1].rsplit('"', 1)[0]))
            elif line.startswith(":signature packet:"):
                res.append(("sig", line.rsplit("keyid ", 1)[1].strip()))
            elif line.startswith(":"):
                res.append((line.strip(":").split(":")[0].strip(), ""))
        return res

    def show_only(self, path):
        """What a fresh gpg reads in the file: {fingerprint: [user IDs]}."""
        out = self.gpg("--with-colons", "--import-options", "show-only",
                       "--import", path).decode()
        keys, fpr = {}, None
        for line in out.splitlines():
            f = line.split(":")
            if f[0] == "pub":
                fpr = None
            elif f[0] == "fpr" and fpr is None:
                fpr = f[9]
                keys[fpr] = []
            elif f[0] == "uid":
                keys[fpr].append(f[9])
        return keys

    def published(self):
        """key published as {address: (fingerprint, status, file)} and the
        note lines after the table."""
        out = self.ok("published")
        if out == "nothing is published\n":
            return {}, []
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["ADDRESS", "FINGERPRINT", "STATUS",
                                            "FILE"])
        rows, notes = {}, []
        for l in lines[1:]:
            w = l.split()
            if len(w) == 4 and w[2] in ("current", "outdated", "unusable",
                                        "invalid"):
                rows[w[0]] = (w[1], w[2], w[3])
            else:
                notes.append(l)
        return rows, notes

    def test_wkd_hash(self):
        """The test's own hash against the draft's vector and gpg's."""
        self.assertEqual(wkd_hash("Joe.Doe"), "iy9q119eutrkn8s1mk4r39qejnbu3n5q")
        if not os.path.exists(WKS_CLIENT):
            self.skipTest("no %s" % WKS_CLIENT)
        for address in ("Joe.Doe@Example.ORG", "grace@example.test",
                        "J\u00d6RG@example.test"):
            r = subprocess.run([WKS_CLIENT, "--print-wkd-hash", address],
                               capture_output=True, check=True)
            self.assertEqual(r.stdout.decode().split()[0],
                             wkd_hash(address.split("@")[0]))

    def test_publish(self):
        self.ok("import", self.file["alice+grace"])
        # the keyring has Alice's certification of Grace's user IDs
        exported = self.write("grace-ring.asc", self.ok("export",
                                                         self.f["grace"]).encode())
        self.assertIn(("sig", self.f["alice"][-16:]), self.packets(exported))
        # root's umask does not decide the modes
        old = os.umask(0o077)
        try:
            out = self.ok("publish", "Grace@Example.TEST")
        finally:
            os.umask(old)
        path = self.wkd_file("grace")
        top = os.path.join(self.data, "wkd")
        dom = os.path.join(top, ".well-known", "openpgpkey", "example.test")
        h = wkd_hash("grace")
        self.assertEqual(out, (
            "published Grace@example.test: key %s\n"
            "  user ID:  Grace <grace@example.test>\n"
            "  file:     %s\n"
            "  policy:   %s/policy (made, empty)\n"
            "  advanced: https://openpgpkey.example.test/.well-known/openpgpkey/"
            "example.test/hu/%s?l=Grace\n"
            "  direct:   https://example.test/.well-known/openpgpkey/hu/%s"
            "?l=Grace\n") % (self.f["grace"], path, dom, h, h))
        if os.path.exists(WKS_CLIENT):
            r = subprocess.run([WKS_CLIENT, "--print-wkd-hash",
                                "grace@example.test"], capture_output=True,
                               check=True)
            self.assertEqual(os.path.basename(path), r.stdout.decode().split()[0])
        with open(path, "rb") as f:
            data = f.read()
        # binary OpenPGP (a packet tag has bit 7 set), not armor
        self.assertTrue(data[0] & 0x80, data[:16])
        self.assertNotIn(b"-----BEGIN", data)
        self.assertNotIn(b"private.test", data)
        # only the published address's user ID, only self-signatures
        pk = self.packets(path)
        self.assertEqual([d for k, d in pk if k == "uid"],
                         ["Grace <grace@example.test>"])
        self.assertEqual({d for k, d in pk if k == "sig"}, {self.f["grace"][-16:]})
        self.assertEqual(self.show_only(path),
                         {self.f["grace"]: ["Grace <grace@example.test>"]})
        # the tree: root's, folders 0755, files 0644, the empty policy file
        for d in (top, os.path.join(top, ".well-known"),
                  os.path.dirname(dom), dom, os.path.join(dom, "hu")):
            st = os.lstat(d)
            self.assertTrue(stat.S_ISDIR(st.st_mode), d)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o755), d)
        for f in (path, os.path.join(dom, "policy")):
            st = os.lstat(f)
            self.assertTrue(stat.S_ISREG(st.st_mode), f)
            self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o644), f)
        self.assertEqual(os.path.getsize(os.path.join(dom, "policy")), 0)
        self.assertEqual(sorted(os.listdir(dom)), ["hu", "policy"])
        self.assertEqual(os.listdir(os.path.join(dom, "hu")), [h])
        # the same again: nothing to write; the policy file stays as it is
        with open(os.path.join(dom, "policy"), "w") as f:
            f.write("protocol-version: 5\n")
        out = self.ok("publish", "grace@example.test")
        self.assertTrue(out.startswith("unchanged grace@example.test: key %s\n"
                                       % self.f["grace"]), out)
        self.assertNotIn("policy:", out)
        with open(os.path.join(dom, "policy")) as f:
            self.assertEqual(f.read(), "protocol-version: 5\n")
        self.assertEqual(self.published(), ({"grace@example.test": (
            self.f["grace"], "current", path)}, []))
        # a second address
        self.ok("publish", "alice@example.test")
        st = os.lstat(self.wkd_file("alice"))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o644)
        rows, notes = self.published()
        self.assertEqual(sorted(rows), ["alice@example.test", "grace@example.test"])
        self.assertEqual(notes, [])

    def test_publish_refused(self):
        self.ok("import", self.file["alice+grace"])
        conf = self.inst.conf
        for args, status, line in (
                (("publish", "nobody@example.test"), 1,
                 "no key for nobody@example.test in the keyring: nothing "
                 "published"),
                (("publish", "grace@private.test"), 1,
                 'private.test is not a domain of this server (no "domain '
                 'private.test" line in %s): nothing published' % conf),
                (("publish", "grace"), 2, "key publish: not a plain address "
                 "(local@domain): no @ in the address"),
                (("publish", '"grace"@example.test'), 2, "key publish: not a "
                 "plain address (local@domain): a quoted local part is not "
                 "supported"),
                (("publish", "<grace@example.test>"), 2, "key publish: not a "
                 "plain address (local@domain): a character not allowed in a "
                 "plain local part"),
                (("publish", "grace@../../etc"), 2, "key publish: not a plain "
                 "address (local@domain): the domain is not a host name"),
                (("publish", "gr\x1bce@example.test"), 2, "key publish: not a "
                 "plain address (local@domain): a control character in the "
                 "address"),
                (("unpublish", "a b@example.test"), 2, "key unpublish: not a "
                 "plain address (local@domain): white space in the address")):
            rc, out, err = self.ctl(*args)
            self.assertEqual((rc, out, err),
                             (status, "", "sealpostctl: %s\n" % line), args)
        self.assertFalse(os.path.exists(os.path.join(self.data, "wkd")))
        # an unusable key: revoked, then sign-only
        self.ok("import", self.file["dave-unrevoked"])
        self.ok("publish", "dave@example.test")
        self.ok("import", self.file["dave"])
        rc, out, err = self.ctl("publish", "dave@example.test")
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err, (
            "sealpostctl: the key for dave@example.test is not usable: "
            "revoked: nothing published\n"
            "sealpostctl: the key published before for dave@example.test "
            "stays in %s (sealpostctl key unpublish dave@example.test removes "
            "it)\n") % self.wkd_file("dave"))
        rows, notes = self.published()
        self.assertEqual(rows["dave@example.test"][:2], (self.f["dave"],
                                                         "unusable"))
        self.assertEqual(notes, ["dave@example.test: the key for "
                                 "dave@example.test is not usable: revoked"])
        self.assertEqual(self.ok("unpublish", "dave@example.test"),
                         "unpublished dave@example.test: removed %s\n"
                         % self.wkd_file("dave"))
        self.assertEqual(self.published(), ({}, []))

    def test_unpublish(self):
        self.ok("import", self.file["alice"])
        self.ok("import", self.file["bob"])
        self.assertEqual(self.ok("published"), "nothing is published\n")
        rc, out, err = self.ctl("unpublish", "alice@example.test")
        self.assertEqual((rc, out, err), (1, "", "sealpostctl: alice@example.test "
                                          "is not published\n"))
        self.ok("publish", "alice@example.test")
        self.ok("publish", "bob@example.test")
        self.assertEqual(self.ok("unpublish", "ALICE@example.test"),
                         "unpublished ALICE@example.test: removed %s\n"
                         % self.wkd_file("alice"))
        self.assertFalse(os.path.exists(self.wkd_file("alice")))
        self.assertTrue(os.path.exists(self.wkd_file("bob")))
        rc, out, err = self.ctl("unpublish", "alice@example.test")
        self.assertEqual((rc, out, err), (1, "", "sealpostctl: alice@example.test "
                                          "is not published\n"))
        # a domain with nothing published at all
        rc, out, err = self.ctl("unpublish", "alice@other.test")
        self.assertEqual((rc, err), (1, "sealpostctl: alice@other.test is not "
                                     "published\n"))
        # removing the key does not unpublish it: published says so
        self.ok("remove", self.f["bob"])
        rows, notes = self.published()
        self.assertEqual(rows, {"bob@example.test": (
            self.f["bob"], "unusable", self.wkd_file("bob"))})
        self.assertEqual(notes, ["bob@example.test: no key for it in the "
                                 "keyring"])
        self.ok("unpublish", "bob@example.test")
        self.assertEqual(self.ok("published"), "nothing is published\n")

    def test_republish_updated(self):
        home = tempfile.mkdtemp(prefix="spu.", dir="/tmp")
        try:
            subprocess.run(["cp", "-a", self.gen + "/.", home], check=True)
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"],
                           capture_output=True)
            self.ok("import", self.file["frank"])
            self.ok("publish", "frank@example.test")
            path = self.wkd_file("frank")
            with open(path, "rb") as f:
                before = f.read()
            # a new expiry and a second address on the key, imported
            self.gpg("--quick-set-expire", self.f["frank"], "2y", home=home)
            self.gpg("--quick-add-uid", self.f["frank"],
                     "Frank Home <frank@home.test>", home=home)
            upd = os.path.join(self.tmp, "frank-upd.gpg")
            self.gpg("--export", self.f["frank"], out=upd, home=home)
            self.ok("import", upd)
            rows, notes = self.published()
            self.assertEqual(rows["frank@example.test"][1], "outdated")
            self.assertEqual(notes, [
                "frank@example.test: the keyring has changes to the key: "
                "sealpostctl key publish frank@example.test updates the file"])
            out = self.ok("publish", "frank@example.test")
            self.assertTrue(out.startswith("updated frank@example.test: key %s\n"
                                           % self.f["frank"]), out)
            with open(path, "rb") as f:
                after = f.read()
            self.assertNotEqual(after, before)
            self.assertNotIn(b"home.test", after)
            exp = self.gpg("--with-colons", "--import-options", "show-only",
                           "--import", path).decode()
            pub = [l for l in exp.splitlines() if l.startswith("pub:")][0]
            self.assertNotEqual(pub.split(":")[6], "")     # it expires now
            self.assertEqual(self.show_only(path),
                             {self.f["frank"]: ["Frank <frank@example.test>"]})
            self.assertEqual(os.listdir(os.path.dirname(path)),
                             [os.path.basename(path)])
            self.assertEqual(self.published()[0]["frank@example.test"][1],
                             "current")
        finally:
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"],
                           capture_output=True)
            shutil.rmtree(home)

    def test_published_odd_files_and_tree(self):
        self.ok("import", self.file["alice"])
        self.ok("import", self.file["bob"])
        self.ok("publish", "alice@example.test")
        hu = os.path.dirname(self.wkd_file("alice"))
        # Bob's key under Alice's name; junk; a name that is no hash
        shutil.copy(self.file["bob.gpg"], os.path.join(hu, wkd_hash("carl")))
        with open(os.path.join(hu, wkd_hash("junk")), "wb") as f:
            f.write(b"\x99junk")
        with open(os.path.join(hu, "README"), "w") as f:
            f.write("hello\n")
        rc, out, err = self.ctl("published")
        self.assertEqual((rc, err), (0, ""))
        self.assertIn(["-", "-", "invalid", os.path.join(hu, "README")],
                      [l.split() for l in out.splitlines()])
        rows = [l.split() for l in out.splitlines()]
        self.assertIn(["alice@example.test", self.f["alice"], "current",
                       self.wkd_file("alice")], rows)
        self.assertIn(["-", self.f["bob"], "invalid",
                       os.path.join(hu, wkd_hash("carl"))], rows)
        self.assertIn("%s: the name is not a WKD hash\n"
                      % os.path.join(hu, "README"), out)
        self.assertIn("%s: no user ID in example.test whose local part has "
                      "this hash\n" % os.path.join(hu, wkd_hash("carl")), out)
        self.assertIn(os.path.join(hu, wkd_hash("junk")) + ": ", out)
        # a folder of the tree others could write: refused, not repaired
        os.chmod(hu, 0o777)
        try:
            for args in (("publish", "alice@example.test"),
                         ("unpublish", "alice@example.test"), ("published",)):
                rc, out, err = self.ctl(*args)
                self.assertEqual((rc, out), (1, ""), args)
                self.assertEqual(err, "sealpostctl: %s exists with owner 0:0 "
                                 "mode 0777, expected a folder of root's that "
                                 "only root can write (0755)\n" % hu, args)
        finally:
            os.chmod(hu, 0o755)
        # a symbolic link in place of a folder
        dom = os.path.dirname(hu)
        shutil.rmtree(dom)
        os.symlink("/tmp", dom)
        try:
            rc, out, err = self.ctl("publish", "alice@example.test")
            self.assertEqual((rc, err), (1, "sealpostctl: %s exists and is not "
                                         "a folder\n" % dom))
        finally:
            os.unlink(dom)
        self.ok("publish", "alice@example.test")

    def test_zz_timing(self):
        """Not a check: how long key generation and an import take."""
        t0 = time.monotonic()
        self.ok("import", self.file["alice"])
        t1 = time.monotonic()
        self.ok("list")
        t2 = time.monotonic()
        print("\n    keygen %.2f s (%d keys), import %.3f s, list %.3f s"
              % (self.keygen_seconds, len(self.f), t1 - t0, t2 - t1), end=" ")


if __name__ == "__main__":
    unittest.main()
