"""Autocrypt harvesting (issue 13): the pgp service learns the key in the
Autocrypt header (Level 1) of mail a local user sends after logging in,
when the policy says "autocrypt yes", and then encrypts mail to that user
with it, at the lowest trust.  Real gpg makes the keys; mail is sent over
submission with AUTH and read back over IMAP and decrypted.

Covered: a first key is used at once; the same key again changes
nothing; a changed key is held (key pending) and only used after key
pending accept, or dropped by reject; a header whose addr is not the From
address, or whose From is not the envelope sender, teaches nothing; a
sender on port 25 (not logged in) teaches nothing; an address the
administrator's keyring names is never overridden; key discovered and
key forget."""

import base64
import email
import email.policy
import os
import re
import smtplib
import unittest

from sealpost_test import Instance
from test_pgp import Keys, gpg

CONF = ["instance-type test", "kdf-strength test"]
PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
_n = [0]


def autocrypt_header(keys, addr, home=None):
    """An Autocrypt field for addr's key (from its home), folded."""
    home = home or keys.homes[addr]
    data = gpg(home, "--export-options", "export-minimal", "--export",
               addr).stdout
    b64 = base64.b64encode(data).decode()
    lines = [b64[i:i + 72] for i in range(0, len(b64), 72)]
    return ("Autocrypt: addr=%s; prefer-encrypt=mutual; keydata=\r\n "
            % addr + "\r\n ".join(lines) + "\r\n").encode()


def fpr(home, addr):
    out = gpg(home, "--with-colons", "--list-keys", addr).stdout.decode()
    return re.search(r"^fpr:+([0-9A-F]{40}):", out, re.M).group(1)


class AutocryptBase:
    build = None

    @classmethod
    def setUpClass(cls):
        cls.keys = Keys()
        cls.inst = Instance("autocrypt", extra_conf=CONF, build=cls.build).start()
        cls.inst.wait_services_ready()
        for u in ("alice", "bob", "carol", "dave", "erin"):
            cls.inst.add_user("%s@example.test" % u)
        for u in ("alice", "bob", "carol", "dave", "erin"):
            cls.keys.make("%s@example.test" % u)
        # carol's key is the administrator's: Autocrypt never overrides it
        path = os.path.join(cls.keys.dir, "carol.asc")
        with open(path, "wb") as f:
            f.write(cls.keys.public("carol@example.test"))
        cls.inst.ctl("key", "import", path)
        with open(os.path.join(cls.inst.dir, "policy", "ac.policy"), "w") as f:
            f.write("rule learn {\n\tsender *@example.test\n\tautocrypt yes\n}\n")
        cls.inst.ctl("reload")
        cls.inst.wait_log(r"service filter renewed", timeout=20)

    @classmethod
    def tearDownClass(cls):
        cls.inst.finish()
        cls.keys.close()

    def submit(self, user, msg, mail_from=None, rcpts=("bob@example.test",)):
        with smtplib.SMTP("127.0.0.1", self.inst.port("submission"),
                          timeout=60) as s:
            s.ehlo("client.test")
            s.starttls(context=self.inst.tls_context())
            s.ehlo("client.test")
            s.login(user, self.inst.demo_password)
            s.sendmail(mail_from or user, list(rcpts), msg)

    @staticmethod
    def message(frm, header=b"", to=b"bob@example.test"):
        _n[0] += 1
        return (b"From: " + frm.encode() + b"\r\nTo: " + to + b"\r\n"
                b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
                b"Message-ID: <ac%d@autocrypt.test>\r\nSubject: hi\r\n" % _n[0]
                + header + b"Content-Type: text/plain\r\n\r\nhello %d\r\n" % _n[0])

    def learn(self, addr, home=None, result="new", **kw):
        """addr sends a message with the Autocrypt header of home's key."""
        n = len(self.inst.log().splitlines())
        msg = self.message(kw.pop("header_from", addr),
                           autocrypt_header(self.keys, addr, home))
        self.submit(kw.pop("user", addr), msg, **kw)
        try:
            self.inst.wait_log(r"pgp event=autocrypt result=%s" % result, timeout=10)
        except TimeoutError:
            print("\n".join(l for l in self.inst.log().splitlines()[n:]
                            if "pgp" in l or "autocrypt" in l or "sandbox" in l))
            raise
        return "\n".join(self.inst.log().splitlines()[n:])

    def mail_to(self, addr):
        """Mail from outside to addr; the stored copy."""
        _n[0] += 1
        mid = b"<in%d@autocrypt.test>" % _n[0]
        msg = (b"From: x@other.test\r\nTo: " + addr.encode() + b"\r\nSubject: in\r\n"
               b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
               b"Message-ID: " + mid + b"\r\n\r\nsecret %d\r\n" % _n[0])
        self.inst.deliver(addr, [msg])
        m = self.inst.imaps(addr)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1:*", "(BODY.PEEK[])")
        m.logout()
        [got] = [d[1] for d in data if isinstance(d, tuple) and mid in d[1]]
        return got

    def encrypted_to(self, got):
        """The key id gpg reports for an encrypted stored copy, or None."""
        msg = email.message_from_bytes(got, policy=email.policy.compat32)
        if msg.get_content_type() != "multipart/encrypted":
            return None
        armored = msg.get_payload()[1].get_payload().encode()
        r = gpg(self.keys.dir, "--list-packets", input=armored, check=False)
        m = re.search(rb"keyid ([0-9A-F]{16})", r.stdout + r.stderr)
        return m.group(1).decode() if m else "?"

    def subkey_ids(self, home, addr):
        out = gpg(home, "--with-colons", "--list-keys", addr).stdout.decode()
        return {l.split(":")[4] for l in out.splitlines() if l.startswith("sub:")}

    def test_first_key_used_then_change_held(self):
        a = "alice@example.test"
        self.assertIsNone(self.encrypted_to(self.mail_to(a)))
        self.learn(a)
        ids = self.subkey_ids(self.keys.homes[a], a)
        self.assertIn(self.encrypted_to(self.mail_to(a)), ids)
        self.inst.wait_log(r"pgp event=encrypt result=encrypted .* source=autocrypt")
        out = self.inst.ctl("key", "discovered").stdout.decode()
        self.assertRegex(out, r"autocrypt +alice@example.test +key +%s"
                         % fpr(self.keys.homes[a], a))
        # the same key again: nothing changes
        self.learn(a, result="same")
        # a new key: held, the old one still used
        home2 = os.path.join(self.keys.dir, "alice2")
        os.mkdir(home2, 0o700)
        gpg(home2, "--quick-gen-key", "Alice <%s>" % a, "future-default",
            "default", "never")
        self.learn(a, home=home2, result="pending")
        self.assertIn(self.encrypted_to(self.mail_to(a)), ids)
        out = self.inst.ctl("key", "pending").stdout.decode()
        self.assertIn("%s %s %s" % (a.ljust(30), fpr(self.keys.homes[a], a),
                                    fpr(home2, a)), out)
        # reject: the old key stays, nothing held
        out = self.inst.ctl("key", "pending", "reject", a).stdout.decode()
        self.assertIn("rejected key " + fpr(home2, a), out)
        self.assertIn("no key changes are held",
                      self.inst.ctl("key", "pending").stdout.decode())
        self.assertIn(self.encrypted_to(self.mail_to(a)), ids)
        # again, and accepted: the new key from now on
        self.learn(a, home=home2, result="pending")
        r = self.inst.ctl("key", "pending", "accept", "bob@example.test", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"no key change is held", r.stderr)
        out = self.inst.ctl("key", "pending", "accept", a).stdout.decode()
        self.assertIn("accepted key %s; it replaces %s" % (
            fpr(home2, a), fpr(self.keys.homes[a], a)), out)
        self.assertIn(self.encrypted_to(self.mail_to(a)),
                      self.subkey_ids(home2, a))
        # forget: plaintext again
        self.assertIn("autocrypt", self.inst.ctl("key", "forget", a).stdout.decode())
        self.assertIsNone(self.encrypted_to(self.mail_to(a)))

    def test_only_for_the_senders_own_address(self):
        # addr names bob, From is dave (the logged-in user): no valid header
        d = "dave@example.test"
        msg = self.message(d, autocrypt_header(self.keys, "bob@example.test"))
        self.submit(d, msg)
        self.inst.wait_log(r"pgp event=autocrypt result=none reason=.*")
        # From and addr are bob's, the envelope sender is dave's
        msg = self.message("bob@example.test",
                           autocrypt_header(self.keys, "bob@example.test"))
        self.submit(d, msg)
        self.inst.wait_log(r"pgp event=autocrypt result=none "
                           r"reason=its\\x20address\\x20is\\x20not\\x20the\\x20envelope\\x20sender")
        self.assertIsNone(self.encrypted_to(self.mail_to("bob@example.test")))
        # not logged in (port 25): never looked at
        msg = self.message("erin@example.test",
                           autocrypt_header(self.keys, "erin@example.test"))
        self.inst.deliver("bob@example.test", [msg], sender="erin@example.test")
        self.assertIsNone(self.encrypted_to(self.mail_to("erin@example.test")))
        self.assertNotIn("erin@example.test",
                         self.inst.ctl("key", "discovered").stdout.decode())

    def test_admin_key_never_overridden(self):
        c = "carol@example.test"
        home2 = os.path.join(self.keys.dir, "carol2")
        os.mkdir(home2, 0o700)
        gpg(home2, "--quick-gen-key", "Carol <%s>" % c, "future-default",
            "default", "never")
        self.learn(c, home=home2, result="ignored")
        self.assertIn(self.encrypted_to(self.mail_to(c)),
                      self.subkey_ids(self.keys.homes[c], c))
        self.assertNotIn(c, self.inst.ctl("key", "discovered").stdout.decode())

    def test_cli_errors(self):
        r = self.inst.ctl("key", "pending", "accept", "not an address", check=False)
        self.assertEqual(r.returncode, 2)
        r = self.inst.ctl("key", "forget", "nobody@example.test", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"nothing was learnt", r.stderr)
        self.assertEqual(self.inst.ctl("key", "pending", "x", check=False).returncode, 2)

    def test_zz_no_bad_log_lines(self):
        self.assertEqual(self.inst.bad_log_lines(), [])
        self.assertNotIn("sandbox violation", self.inst.log())


class TestAutocrypt(AutocryptBase, unittest.TestCase):
    pass


if __name__ == "__main__":
    unittest.main()
