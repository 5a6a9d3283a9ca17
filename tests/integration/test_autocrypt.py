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
import os
import smtplib
import unittest

from sealpost_test import Instance
from pgp_test import Keys, gpg, mail_in

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
        try:
            cls.inst.finish()
        finally:
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
        return mail_in(self.inst, addr)

    def encrypted_to(self, got):
        return self.keys.encrypted_to(got)

    def subkey_ids(self, home, addr):
        return self.keys.subkey_ids(addr, home)

    def test_first_key_used_then_change_held(self):
        a = "alice@example.test"
        self.assertIsNone(self.encrypted_to(self.mail_to(a)))
        self.learn(a)
        ids = self.subkey_ids(self.keys.homes[a], a)
        self.assertIn(self.encrypted_to(self.mail_to(a)), ids)
        self.inst.wait_log(r"pgp event=encrypt result=encrypted .* source=autocrypt")
        out = self.inst.ctl("key", "discovered").stdout.decode()
        self.assertRegex(out, r"autocrypt +alice@example.test +key +%s"
                         % self.keys.fingerprint(a))
        # the same key again: nothing changes
        self.learn(a, result="same")
        # a new key: held, the old one still used
        home2 = self.keys.make(a, home="alice2")
        self.learn(a, home=home2, result="pending")
        self.assertIn(self.encrypted_to(self.mail_to(a)), ids)
        out = self.inst.ctl("key", "pending").stdout.decode()
        self.assertIn("%s %s %s" % (a.ljust(30), self.keys.fingerprint(a),
                                    self.keys.fingerprint(a, home2)), out)
        # reject: the old key stays, nothing held
        out = self.inst.ctl("key", "pending", "reject", a).stdout.decode()
        self.assertIn("rejected key " + self.keys.fingerprint(a, home2), out)
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
            self.keys.fingerprint(a, home2), self.keys.fingerprint(a)), out)
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
        home2 = self.keys.make(c, home="carol2")
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
