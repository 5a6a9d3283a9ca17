"""Automatic OpenPGP encryption (issue 12), with real gpg through GPGME in
the pgp service: keys are made with gpg in separate homes, imported with
sealpostctl key import, and every stored copy is read back over IMAP and
decrypted with gpg holding the recipient's secret key, then compared
with what was sent.  One recipient with a key gets RFC 3156 PGP/MIME;
of three recipients only the one with a key gets an encrypted copy, the
others the original; "pgp required" refuses a recipient without a usable
key at RCPT (550 5.7.1) and accepts one with a key; an expired or a
revoked key is never used (required: refused); mail already encrypted
(PGP/MIME, inline armor, S/MIME) is stored as it is; protect-subject
moves the Subject inside (protected headers, "..." outside); gpg killed
while it encrypts defers the message (451 4.7.1) and stores nothing in
clear (SECURITY-TESTS T54)."""

import email
import email.policy
import os
import signal
import smtplib
import threading
import time
import unittest

from sealpost_test import Instance, wait_for
from pgp_test import Keys, gpg

CONF = ["instance-type test", "kdf-strength test"]
PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
_n = [0]


def message(subject="secret plans", body=b"the meeting is at noon\r\n", extra=b""):
    _n[0] += 1
    return (b"From: sender@other.test\r\nTo: someone@example.test\r\n"
            b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
            b"Message-ID: <%d@pgp.test>\r\nSubject: " % _n[0] + subject.encode()
            + b"\r\nContent-Type: text/plain; charset=utf-8\r\n" + extra
            + b"\r\n" + body)


class PgpBase:
    build = None

    @classmethod
    def setUpClass(cls):
        cls.keys = Keys()
        cls.inst = Instance("pgp", extra_conf=CONF, build=cls.build).start()
        cls.inst.wait_services_ready()
        for u in ("alice", "bob", "dave", "req", "exp", "rev", "prot"):
            cls.inst.add_user("%s@example.test" % u)
        for u in ("alice", "req", "rev", "prot"):
            cls.keys.make("%s@example.test" % u)
        cls.keys.make("far@remote.example")
        cls.keys.make("exp@example.test", expire="seconds=4")
        cls.exp_made = time.time()
        for a in ("alice@example.test", "req@example.test", "exp@example.test",
                  "rev@example.test", "prot@example.test", "far@remote.example"):
            path = os.path.join(cls.keys.dir, a + ".asc")
            with open(path, "wb") as f:
                f.write(cls.keys.public(a))
            cls.inst.ctl("key", "import", path)
        with open(os.path.join(cls.inst.dir, "policy", "pgp.policy"), "w") as f:
            f.write("rule required {\n\trecipient req@example.test bob-req@example.test "
                    "exp@example.test rev@example.test\n\tpgp required\n}\n"
                    "rule prot {\n\trecipient prot@example.test\n\tprotect-subject yes\n}\n"
                    "rule never {\n\trecipient dave@example.test\n\tpgp never\n}\n"
                    "rule to-sender {\n\tsender alice@example.test\n\tauthenticated yes\n"
                    "\tencrypt-to-sender yes\n}\n")
        cls.inst.ctl("reload")
        cls.inst.wait_log(r"service filter renewed", timeout=20)

    @classmethod
    def tearDownClass(cls):
        cls.inst.finish()
        cls.keys.close()

    def send(self, rcpts, msg):
        """(code, text) of the reply to DATA, or of the first refused RCPT.
        A session whose pgp channel broke (the watchdog) answers QUIT with
        421: that is not the reply under test."""
        s = smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=60)
        try:
            s.ehlo("client.test")
            s.mail("sender@other.test")
            for r in rcpts:
                code, text = s.rcpt(r)
                if code != 250:
                    return code, text
            return s.data(msg)
        finally:
            try:
                s.quit()
            except smtplib.SMTPException:
                s.close()

    def stored(self, user, msgid):
        """The stored copies in user's INBOX with that Message-ID."""
        m = self.inst.imaps(user)
        typ, exists = m.select("INBOX", readonly=True)
        out = []
        if int(exists[0]) > 0:
            typ, data = m.fetch("1:*", "(BODY.PEEK[])")
            out = [d[1] for d in data if isinstance(d, tuple) and msgid in d[1]]
        m.logout()
        return out

    def decrypted(self, user, stored):
        """The encrypted part of a PGP/MIME message, decrypted."""
        msg = email.message_from_bytes(stored, policy=email.policy.compat32)
        self.assertEqual(msg.get_content_type(), "multipart/encrypted")
        self.assertEqual(msg.get_param("protocol"), "application/pgp-encrypted")
        ver, data = msg.get_payload()
        self.assertEqual(ver.get_content_type(), "application/pgp-encrypted")
        self.assertIn("Version: 1", ver.get_payload())
        self.assertEqual(data.get_content_type(), "application/octet-stream")
        armored = data.get_payload().encode()
        self.assertTrue(armored.startswith(b"-----BEGIN PGP MESSAGE-----"))
        return self.keys.decrypt(user, armored)

    @staticmethod
    def mid(msg):
        return msg.split(b"Message-ID: ")[1].split(b"\r\n")[0]

    def test_one_recipient_with_a_key(self):
        msg = message()
        self.assertEqual(self.send(["alice@example.test"], msg)[0], 250)
        [got] = self.stored("alice@example.test", self.mid(msg))
        self.assertNotIn(b"the meeting is at noon", got)
        # the routing headers stay readable, our Received: on top
        self.assertTrue(got.startswith(b"Received: from client.test"))
        self.assertIn(b"\r\nSubject: secret plans\r\n", got)
        self.assertIn(b"\r\nFrom: sender@other.test\r\n", got)
        inner = self.decrypted("alice@example.test", got)
        self.assertEqual(inner, b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
                                b"the meeting is at noon\r\n")
        self.inst.wait_log(r"pgp event=encrypt result=encrypted size=\d+ key=[0-9A-F]{40}")
        self.inst.wait_log(r"smtp event=message .* copies=1 encrypted=1 ")

    def test_three_recipients_one_with_a_key(self):
        msg = message(body=b"for three\r\n")
        self.assertEqual(self.send(["alice@example.test", "bob@example.test",
                                    "dave@example.test"], msg)[0], 250)
        [a] = self.stored("alice@example.test", self.mid(msg))
        self.assertEqual(self.decrypted("alice@example.test", a),
                         b"Content-Type: text/plain; charset=utf-8\r\n\r\nfor three\r\n")
        for u in ("bob@example.test", "dave@example.test"):
            [p] = self.stored(u, self.mid(msg))
            self.assertTrue(p.endswith(msg), p[-300:])

    def test_required_without_a_key_refused_at_rcpt(self):
        msg = message()
        self.assertEqual(self.send(["bob-req@example.test"], msg)[0], 550)
        self.inst.add_user("bob-req@example.test")
        code, text = self.send(["bob-req@example.test"], msg)
        self.assertEqual((code, text), (550, b"5.7.1 Recipient requires encrypted mail "
                                             b"and no usable OpenPGP key is known for it"))
        # with a key: accepted, encrypted
        msg = message(body=b"required\r\n")
        self.assertEqual(self.send(["req@example.test"], msg)[0], 250)
        [got] = self.stored("req@example.test", self.mid(msg))
        self.assertIn(b"required\r\n", self.decrypted("req@example.test", got))

    def test_expired_key_not_used(self):
        wait_for(lambda: time.time() > self.exp_made + 5, 10, "the key to expire")
        code, text = self.send(["exp@example.test"], message())
        self.assertEqual(code, 550)

    def test_revoked_key_not_used(self):
        """The owner revokes the key (gpg's revocation certificate, made
        with the key); the updated key is imported: never used again."""
        msg = message(body=b"before\r\n")
        self.assertEqual(self.send(["rev@example.test"], msg)[0], 250)
        home = self.keys.homes["rev@example.test"]
        fpr = [l.split(":")[9] for l in gpg(home, "--with-colons", "--list-keys").stdout
               .decode().splitlines() if l.startswith("fpr:")][0]
        with open(os.path.join(home, "openpgp-revocs.d", fpr + ".rev")) as f:
            cert = f.read().replace(":-----BEGIN", "-----BEGIN")
        gpg(home, "--import", input=cert.encode())
        path = os.path.join(self.keys.dir, "rev-revoked.asc")
        with open(path, "wb") as f:
            f.write(self.keys.public("rev@example.test"))
        out = self.inst.ctl("key", "import", path).stdout.decode()
        self.assertIn("updated", out)
        self.assertIn("revoked", self.inst.ctl("key", "list").stdout.decode())
        code, text = self.send(["rev@example.test"], message())
        self.assertEqual((code, text), (550, b"5.7.1 Recipient requires encrypted mail "
                                             b"and no usable OpenPGP key is known for it"))

    def test_already_encrypted_left_as_is(self):
        pgpmime = (b"MIME-Version: 1.0\r\nContent-Type: multipart/encrypted; "
                   b'protocol="application/pgp-encrypted"; boundary="b"\r\n\r\n'
                   b"--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
                   b"--b\r\nContent-Type: application/octet-stream\r\n\r\n"
                   b"-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n"
                   b"--b--\r\n")
        inline = b"\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA\r\n-----END PGP MESSAGE-----\r\n"
        smime = (b"MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; "
                 b"smime-type=enveloped-data; name=smime.p7m\r\n"
                 b"Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\r\n")
        for i, tail in enumerate((pgpmime, inline, smime)):
            _n[0] += 1
            msg = (b"From: sender@other.test\r\nTo: alice@example.test\r\n"
                   b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
                   b"Message-ID: <enc%d-%d@pgp.test>\r\nSubject: enc\r\n" % (i, _n[0]) + tail)
            self.assertEqual(self.send(["alice@example.test"], msg)[0], 250)
            [got] = self.stored("alice@example.test", self.mid(msg))
            self.assertTrue(got.endswith(msg), (i, got[-400:]))
        self.inst.wait_log(r"pgp event=encrypt result=already-encrypted")

    def test_protected_subject(self):
        msg = message(subject="merger with ACME")
        self.assertEqual(self.send(["prot@example.test"], msg)[0], 250)
        [got] = self.stored("prot@example.test", self.mid(msg))
        self.assertIn(b"\r\nSubject: ...\r\n", got)
        self.assertNotIn(b"ACME", got)
        inner = self.decrypted("prot@example.test", got)
        part = email.message_from_bytes(inner, policy=email.policy.compat32)
        self.assertEqual(part["Subject"], "merger with ACME")
        self.assertEqual(part["From"], "sender@other.test")
        self.assertEqual(part.get_param("protected-headers"), "v1")
        self.assertEqual(part.get_payload(), "the meeting is at noon\r\n")

    def test_outbound_copies_queued(self):
        """A submission to two remote recipients (one with a key) and a
        local one: the keyed remote recipient's copy is queued encrypted,
        in an entry of its own, to the sender's key too (encrypt-to-sender);
        the other remote recipient shares the original's entry; the local
        copy is stored."""
        before = set(self.queue_ids())
        msg = message(body=b"outbound\r\n")
        with smtplib.SMTP("127.0.0.1", self.inst.port("submission"), timeout=60) as s:
            s.starttls(context=self.inst.tls_context())
            s.login("alice@example.test", self.inst.demo_password)
            s.sendmail("alice@example.test", ["far@remote.example", "near@remote.example",
                                              "bob@example.test"], msg)
        new = [i for i in self.queue_ids() if i not in before]
        self.assertEqual(len(new), 2)
        shows = {i: self.inst.ctl("queue", "show", i).stdout.decode() for i in new}
        far = [i for i in new if "to:        <far@remote.example>" in shows[i]]
        near = [i for i in new if "to:        <near@remote.example>" in shows[i]]
        self.assertEqual(len(far), 1)
        self.assertEqual(len(near), 1)
        self.assertNotIn("near@", shows[far[0]])
        body = self.inst.ctl("queue", "show", far[0], "--raw").stdout
        self.assertNotIn(b"outbound", body)
        self.assertIn(b"outbound\r\n", self.decrypted("far@remote.example", body))
        # encrypt-to-sender (alice logged in, and has a key): she can
        # read the copy too
        self.assertIn(b"outbound\r\n", self.decrypted("alice@example.test", body))
        self.inst.wait_log(r"pgp event=encrypt result=encrypted size=\d+ key=\w+ "
                           r"sender_key=\w+ ")
        plain = self.inst.ctl("queue", "show", near[0], "--raw").stdout
        self.assertTrue(plain.endswith(msg))
        [got] = self.stored("bob@example.test", self.mid(msg))
        self.assertTrue(got.endswith(msg))

    def queue_ids(self):
        out = self.inst.ctl("queue", "list").stdout.decode().splitlines()
        return [l.split()[0] for l in out[1:]] if out and out[0].startswith("ID") else []

    def test_gpg_killed_defers(self):
        """T54: gpg dies while it encrypts: 451 4.7.1, nothing stored."""
        stop = threading.Event()
        killed = []

        def killer():
            while not stop.is_set():
                for p in os.listdir("/proc"):
                    if not p.isdigit():
                        continue
                    try:
                        with open("/proc/%s/stat" % p) as f:
                            st = f.read()
                    except OSError:
                        continue
                    comm = st[st.index("(") + 1:st.rindex(")")]
                    if comm != "gpg":
                        continue
                    try:
                        with open("/proc/%s/cmdline" % p, "rb") as f:
                            argv = f.read().split(b"\0")
                    except OSError:
                        continue
                    # GPGME forks twice: gpg's parent is not pgp; its
                    # home in the pgp jail is what tells it apart
                    if b"/gnupg" in argv:
                        try:
                            os.kill(int(p), signal.SIGKILL)
                            killed.append(int(p))
                        except OSError:
                            pass
                time.sleep(0.001)

        t = threading.Thread(target=killer)
        t.start()
        try:
            # large enough that gpg runs long enough to be caught
            msg = message(body=(b"x" * 76 + b"\r\n") * 100000)
            code, text = self.send(["alice@example.test"], msg)
        finally:
            stop.set()
            t.join()
        self.assertTrue(killed)
        self.assertEqual((code, text), (451, b"4.7.1 Message could not be encrypted, "
                                             b"try again later"))
        self.assertEqual(self.stored("alice@example.test", self.mid(msg)), [])
        # gpg's error, or GPGME spinning on the dead gpg ended by the
        # watchdog (pgp.c), and a fresh pgp service
        self.inst.wait_log(r"pgp event=(encrypt result=error|watchdog "
                           r"result=exit)", timeout=30)
        # and, once pgp is back (restarted if the watchdog ended it), the
        # next one goes through, encrypted
        wait_for(lambda: self.inst.service("pgp")["ready"], 30, "pgp ready")
        msg = message(body=b"after\r\n")
        self.assertEqual(self.send(["alice@example.test"], msg)[0], 250)
        [got] = self.stored("alice@example.test", self.mid(msg))
        self.assertIn(b"after\r\n", self.decrypted("alice@example.test", got))


class Pgp(PgpBase, unittest.TestCase):
    pass


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class PgpPlain(PgpBase, unittest.TestCase):
    """The same without sanitizers: what runs in production (its
    rlimits apply: an encrypted copy is a file write)."""
    build = PLAIN


if __name__ == "__main__":
    unittest.main()
