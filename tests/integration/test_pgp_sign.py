"""Signing with the organization's key (issue 13), with real gpg: a key
made here is imported with sealpostctl key import --signing (a key with
a passphrase and a public key are refused), the policy says "sign yes",
and every stored copy is read back over IMAP and checked with gpg in a
scratch home that holds only the organization's public key: a copy for a
recipient without a key is RFC 3156 multipart/signed and verifies
(gpg --verify on the signed part as stored), an 8-bit text body comes
out quoted-printable and still verifies; a recipient with a key gets one
copy signed and encrypted (RFC 3156 6.2) that decrypts and verifies;
mail the sender signed already is left as it is."""

import email
import email.policy
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import unittest

from sealpost_test import Instance
from test_pgp import CONF, PLAIN, Keys, gpg

_n = [0]
SIGNER = "postmaster@example.test"


def message(body=b"signed, sealed, delivered\r\n", headers=b""):
    _n[0] += 1
    return (b"From: sender@other.test\r\nTo: someone@example.test\r\n"
            b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
            b"Message-ID: <%d@sign.test>\r\nSubject: hello\r\n" % _n[0]
            + headers + b"\r\n" + body)


class SignBase:
    build = None

    @classmethod
    def setUpClass(cls):
        cls.keys = Keys()
        cls.addClassCleanup(cls.keys.close)     # twice is harmless
        cls.inst = Instance("sign", extra_conf=CONF, build=cls.build).start()
        cls.inst.wait_services_ready()
        for u in ("plain", "keyed"):
            cls.inst.add_user("%s@example.test" % u)
        cls.keys.make("keyed@example.test")
        path = os.path.join(cls.keys.dir, "keyed.asc")
        with open(path, "wb") as f:
            f.write(cls.keys.public("keyed@example.test"))
        cls.inst.ctl("key", "import", path)
        # the organization's key, its secret part exported without a
        # passphrase (Keys makes them so)
        home = cls.keys.make(SIGNER)
        cls.org_fpr = [l.split(":")[9] for l in gpg(home, "--with-colons",
                       "--list-keys").stdout.decode().splitlines()
                       if l.startswith("fpr:")][0]
        cls.secret = os.path.join(cls.keys.dir, "org-secret.asc")
        with open(cls.secret, "wb") as f:
            f.write(gpg(home, "--armor", "--export-secret-keys", SIGNER).stdout)
        # the recipients' side: only the organization's public key
        cls.verifier = tempfile.mkdtemp(prefix="sp-verify-", dir="/tmp")
        os.chmod(cls.verifier, 0o700)
        # its agent goes even when set-up fails later
        cls.addClassCleanup(subprocess_kill_agent, cls.verifier)
        gpg(cls.verifier, "--import", input=cls.keys.public(SIGNER))
        gpg(cls.keys.homes["keyed@example.test"], "--import",
            input=cls.keys.public(SIGNER))
        with open(os.path.join(cls.inst.dir, "policy", "sign.policy"), "w") as f:
            f.write("rule sign {\n\trecipient plain@example.test "
                    "keyed@example.test\n\tsign yes\n}\n")
        out = cls.inst.ctl("key", "import", "--signing", cls.secret).stdout.decode()
        assert "signing key " + cls.org_fpr in out, out
        # the pgp service takes the key when it starts
        cls.inst.stop()
        cls.inst.start()
        cls.inst.wait_services_ready()
        cls.inst.wait_log(r"pgp event=signing-key result=ready key=" + cls.org_fpr,
                          timeout=20)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.inst.finish()
        finally:
            cls.keys.close()

    def send(self, rcpt, msg):
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=60) as s:
            s.sendmail("sender@other.test", [rcpt], msg)

    def stored(self, user, msg):
        mid = msg.split(b"Message-ID: ")[1].split(b"\r\n")[0]
        m = self.inst.imaps(user)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1:*", "(BODY.PEEK[])")
        m.logout()
        got = [d[1] for d in data if isinstance(d, tuple) and mid in d[1]]
        self.assertEqual(len(got), 1)
        return got[0]

    def verify(self, signed, sig):
        """gpg --verify in the scratch home: the signer's fingerprint."""
        d = tempfile.mkdtemp(dir=self.keys.dir)
        with open(os.path.join(d, "data"), "wb") as f:
            f.write(signed)
        with open(os.path.join(d, "sig.asc"), "wb") as f:
            f.write(sig)
        r = gpg(self.verifier, "--status-fd", "1", "--verify",
                os.path.join(d, "sig.asc"), os.path.join(d, "data"), check=False)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        m = re.search(rb"^\[GNUPG:\] VALIDSIG (\w+)", r.stdout, re.M)
        self.assertIsNotNone(m, r.stdout)
        return m.group(1).decode()

    def signed_parts(self, got):
        """RFC 3156 5: (the signed part's bytes as stored, the signature)."""
        msg = email.message_from_bytes(got, policy=email.policy.compat32)
        self.assertEqual(msg.get_content_type(), "multipart/signed")
        self.assertEqual(msg.get_param("protocol"), "application/pgp-signature")
        self.assertRegex(msg.get_param("micalg"), r"^pgp-sha(256|384|512)$")
        b = msg.get_param("boundary").encode()
        body = got.split(b"\r\n\r\n", 1)[1]
        start = body.index(b"--" + b + b"\r\n") + len(b) + 4
        end = body.index(b"\r\n--" + b + b"\r\n", start)
        sigpart = email.message_from_bytes(
            body[end + len(b) + 6:body.index(b"\r\n--" + b + b"--")],
            policy=email.policy.compat32)
        self.assertEqual(sigpart.get_content_type(), "application/pgp-signature")
        return body[start:end], sigpart.get_payload().encode()

    def test_import_and_show(self):
        out = self.inst.ctl("key", "signing").stdout.decode()
        self.assertIn("signing key " + self.org_fpr, out)
        self.assertIn(SIGNER, out)
        pub = self.inst.ctl("key", "export", "--signing").stdout
        self.assertTrue(pub.startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----"))
        self.assertNotIn(b"PRIVATE", pub)
        # the public keyring never gets it
        self.assertNotIn(self.org_fpr, self.inst.ctl("key", "list").stdout.decode())

    def test_refused_keys(self):
        home = os.path.join(self.keys.dir, "protected")
        os.mkdir(home, 0o700)
        self.keys.homes["pp@example.test"] = home     # for close()
        gpg(home, "--passphrase", "pw", "--quick-gen-key", "Prot <pp@example.test>",
            "future-default", "default", "never")
        prot = os.path.join(self.keys.dir, "prot.asc")
        with open(prot, "wb") as f:
            f.write(gpg(home, "--passphrase", "pw", "--armor",
                        "--export-secret-keys", "pp@example.test").stdout)
        r = self.inst.ctl("key", "import", "--signing", prot, check=False)
        self.assertEqual(r.returncode, 1)
        err = r.stderr.decode()
        self.assertIn("protected by a passphrase", err)
        self.assertIn("gpg --passwd", err)
        self.assertNotIn("PRIVATE KEY", err)
        pub = os.path.join(self.keys.dir, "pub.asc")
        with open(pub, "wb") as f:
            f.write(self.keys.public("keyed@example.test"))
        r = self.inst.ctl("key", "import", "--signing", pub, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no secret key", r.stderr.decode())
        # the installed key is still the one
        self.assertIn(self.org_fpr, self.inst.ctl("key", "signing").stdout.decode())

    def test_signed_copy_verifies(self):
        msg = message()
        self.send("plain@example.test", msg)
        got = self.stored("plain@example.test", msg)
        self.assertIn(b"\r\nSubject: hello\r\n", got)
        signed, sig = self.signed_parts(got)
        # no Content-Type in the message: an empty header section, text/plain
        self.assertEqual(signed, b"\r\nsigned, sealed, delivered\r\n")
        self.assertEqual(self.verify(signed, sig), self.org_fpr)
        self.inst.wait_log(r"pgp event=sign result=signed size=\d+ key=" + self.org_fpr)

    def test_8bit_body_made_7bit(self):
        text = "Grüße aus Köln, 1 € pro Stück\r\n".encode()
        msg = message(body=text, headers=b"MIME-Version: 1.0\r\n"
                      b"Content-Type: text/plain; charset=utf-8\r\n"
                      b"Content-Transfer-Encoding: 8bit\r\n")
        self.send("plain@example.test", msg)
        got = self.stored("plain@example.test", msg)
        signed, sig = self.signed_parts(got)
        self.assertTrue(all(c < 0x80 for c in signed), signed)
        self.assertIn(b"Content-Transfer-Encoding: quoted-printable", signed)
        self.assertEqual(self.verify(signed, sig), self.org_fpr)
        part = email.message_from_bytes(signed, policy=email.policy.compat32)
        self.assertEqual(part.get_payload(decode=True), text)

    def test_signed_and_encrypted(self):
        msg = message(body=b"for your eyes, signed\r\n")
        self.send("keyed@example.test", msg)
        got = self.stored("keyed@example.test", msg)
        self.assertNotIn(b"for your eyes", got)
        m = email.message_from_bytes(got, policy=email.policy.compat32)
        self.assertEqual(m.get_content_type(), "multipart/encrypted")
        armored = m.get_payload()[1].get_payload().encode()
        r = gpg(self.keys.homes["keyed@example.test"], "--status-fd", "2",
                "--decrypt", input=armored)
        self.assertEqual(r.stdout, b"\r\nfor your eyes, signed\r\n")
        self.assertRegex(r.stderr.decode(), r"\[GNUPG:\] VALIDSIG %s" % self.org_fpr)
        self.inst.wait_log(r"pgp event=encrypt result=encrypted .* signed_by=" +
                           self.org_fpr)

    def test_already_signed_left_as_is(self):
        body = (b"MIME-Version: 1.0\r\nContent-Type: multipart/signed; "
                b'protocol="application/pgp-signature"; micalg=pgp-sha256; '
                b'boundary="s"\r\n\r\n--s\r\nContent-Type: text/plain\r\n\r\nmine\r\n'
                b"--s\r\nContent-Type: application/pgp-signature\r\n\r\n"
                b"-----BEGIN PGP SIGNATURE-----\r\n\r\niQ\r\n-----END PGP SIGNATURE-----\r\n"
                b"--s--\r\n")
        _n[0] += 1
        msg = (b"From: sender@other.test\r\nTo: plain@example.test\r\n"
               b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
               b"Message-ID: <s%d@sign.test>\r\nSubject: mine\r\n" % _n[0] + body)
        self.send("plain@example.test", msg)
        self.assertTrue(self.stored("plain@example.test", msg).endswith(msg))
        self.inst.wait_log(r"pgp event=sign result=already-signed")


def subprocess_kill_agent(home):
    subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"],
                   capture_output=True)
    shutil.rmtree(home, ignore_errors=True)


class TestSign(SignBase, unittest.TestCase):
    pass


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class TestSignPlain(SignBase, unittest.TestCase):
    """The same without sanitizers: the seccomp filter as it ships."""
    build = PLAIN


if __name__ == "__main__":
    unittest.main()
