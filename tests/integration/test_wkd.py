"""Web Key Directory lookups (issue 13): with "wkd yes" in the policy, a
recipient without a key in the administrator's keyring has its key
looked up by the mta over HTTPS (a test CA, served on loopback by
tests/lib/https_server.py; names from a dnsmasq) and handed to the pgp
service, which caches the answer and encrypts with it.  Keys are real
gpg keys; stored copies are read back over IMAP and decrypted.

Covered: a local user's key published with sealpostctl key publish and
fetched back through the same lookup (advanced method), the answer
cached (one request for two messages); the direct method for a domain
without openpgpkey.DOMAIN, for a remote recipient's queued copy;
nothing published (404): plaintext, and that answer cached too; a key
served for an address it does not name is never used; "pgp required"
whose directory cannot be reached is deferred (451), not refused; no
lookup without "wkd yes"; key discovered and key forget."""

import os
import re
import shutil
import smtplib
import tempfile
import unittest

from sealpost_test import DnsServer, Instance, free_port
from https_server import HttpsServer, TestCA, wkd_hash
from pgp_test import Keys, gpg, mail_in

WKD_HOST = "127.0.0.9"
DEAD_HOST = "127.0.0.10"        # nothing listens there


class TestWkd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.keys = Keys()
        cls.ca = TestCA(["openpgpkey.example.test", "openpgpkey.remote.test",
                         "direct.test", "openpgpkey.down.test"])
        cls.tree = tempfile.mkdtemp(prefix="sp-wkdtree-", dir="/tmp")
        cls.dns = DnsServer(records=[
            "host-record=openpgpkey.example.test,%s" % WKD_HOST,
            "host-record=openpgpkey.remote.test,%s" % WKD_HOST,
            "host-record=direct.test,%s" % WKD_HOST,
            "host-record=openpgpkey.down.test,%s" % DEAD_HOST,
        ]).start()
        port = free_port()
        cls.inst = Instance("wkd", extra_conf=[
            "instance-type test", "kdf-strength test",
            "dns-resolver 127.0.0.1@%d" % cls.dns.port,
            "https-port %d" % port, "https-ca-file %s" % cls.ca.ca,
            "outbound-port %d" % free_port(),
            "queue-first-retry 1h"]).start()
        cls.inst.wait_services_ready()
        cls.www = HttpsServer((WKD_HOST, port), cls.ca.cert, cls.ca.key, roots={
            # our own published tree, as a web server would serve it
            "openpgpkey.example.test": os.path.join(cls.inst.dir, "data", "wkd"),
            "openpgpkey.remote.test": cls.tree,
            "direct.test": os.path.join(cls.tree, "direct"),
        }).start()
        for u in ("alice", "bob"):
            cls.inst.add_user("%s@example.test" % u)
        for a in ("bob@example.test", "far@remote.test", "near@direct.test",
                  "other@remote.test"):
            cls.keys.make(a)
        with open(os.path.join(cls.inst.dir, "policy", "wkd.policy"), "w") as f:
            f.write("rule wkd {\n\trecipient *@example.test *@remote.test "
                    "*@direct.test *@down.test\n\twkd yes\n}\n"
                    "rule req {\n\trecipient *@down.test\n\tpgp required\n}\n")
        cls.inst.ctl("reload")
        cls.inst.wait_log(r"service filter renewed", timeout=20)

    @classmethod
    def tearDownClass(cls):
        # everything stopped even when finish() reports bad log lines
        try:
            cls.www.stop()
            cls.inst.finish()
        finally:
            cls.dns.stop()
            cls.keys.close()
            cls.ca.close()
            shutil.rmtree(cls.tree, ignore_errors=True)

    def publish_remote(self, path, key):
        full = os.path.join(self.tree, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(key)

    def binary_key(self, addr):
        return gpg(self.keys.homes[addr], "--export", addr).stdout

    def subkey_ids(self, addr):
        return self.keys.subkey_ids(addr)

    def mail_to(self, addr):
        return mail_in(self.inst, addr)

    def encrypted_to(self, got):
        return self.keys.encrypted_to(got)

    def submit(self, rcpts):
        with smtplib.SMTP("127.0.0.1", self.inst.port("submission"), timeout=60) as s:
            s.starttls(context=self.inst.tls_context())
            s.login("alice@example.test", self.inst.demo_password)
            s.mail("alice@example.test")
            for r in rcpts:
                code, text = s.rcpt(r)
                if code != 250:
                    return code, text
            return s.data(b"From: alice@example.test\r\nTo: x\r\nSubject: out\r\n"
                          b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
                          b"Message-ID: <o%d@wkd.test>\r\n\r\nout\r\n" % len(rcpts))

    def test_published_local_key_fetched_back(self):
        b = "bob@example.test"
        path = os.path.join(self.keys.dir, "bob.asc")
        with open(path, "wb") as f:
            f.write(self.keys.public(b))
        self.inst.ctl("key", "import", path)
        self.inst.ctl("key", "publish", b)
        out = self.inst.ctl("key", "list", b).stdout.decode()
        fpr = re.search(r"[0-9A-F]{40}", out).group(0)
        # only the directory has it now
        self.inst.ctl("key", "remove", fpr)
        self.assertIn(self.encrypted_to(self.mail_to(b)), self.subkey_ids(b))
        self.inst.wait_log(r"pgp event=wkd domain=example.test result=key key=%s" % fpr)
        self.inst.wait_log(r"pgp event=encrypt result=encrypted .*key=\w+ source=wkd")
        want = "/.well-known/openpgpkey/example.test/hu/%s?l=bob" % wkd_hash("bob")
        self.assertEqual(self.www.count(want), 1)
        # cached: the second message asks nobody
        self.assertIn(self.encrypted_to(self.mail_to(b)), self.subkey_ids(b))
        self.assertEqual(self.www.count(want), 1)
        out = self.inst.ctl("key", "discovered").stdout.decode()
        self.assertRegex(out, r"wkd +bob@example.test +key +%s" % fpr)
        # forget: looked up again
        self.assertIn("wkd", self.inst.ctl("key", "forget", b).stdout.decode())
        self.assertIn(self.encrypted_to(self.mail_to(b)), self.subkey_ids(b))
        self.assertEqual(self.www.count(want), 2)

    def test_direct_method_for_a_queued_copy(self):
        n = "near@direct.test"
        self.publish_remote("direct/.well-known/openpgpkey/hu/" + wkd_hash("near"),
                            self.binary_key(n))
        self.assertEqual(self.submit([n])[0], 250)
        self.inst.wait_log(r"pgp event=wkd domain=direct.test result=key")
        self.inst.wait_log(r"pgp event=encrypt result=encrypted .*source=wkd")
        self.assertEqual(self.www.count("/.well-known/openpgpkey/hu/%s?l=near"
                                       % wkd_hash("near")), 1)

    def test_nothing_published_cached(self):
        self.assertEqual(self.submit(["nobody@remote.test"])[0], 250)
        self.inst.wait_log(r"pgp event=wkd domain=remote.test result=none")
        self.assertEqual(self.submit(["nobody@remote.test"])[0], 250)
        self.assertEqual(self.www.count(wkd_hash("nobody")), 1)
        self.assertRegex(self.inst.ctl("key", "discovered").stdout.decode(),
                         r"wkd +nobody@remote.test +none +- ")

    def test_key_for_another_address_not_used(self):
        # far@'s slot serves other@'s key: it does not name far@
        self.publish_remote(".well-known/openpgpkey/remote.test/hu/" + wkd_hash("far"),
                            self.binary_key("other@remote.test"))
        self.assertEqual(self.submit(["far@remote.test"])[0], 250)
        self.inst.wait_log(r"pgp event=wkd domain=remote.test result=none .*"
                           r"does\\x20not\\x20name\\x20the\\x20address")
        self.assertRegex(self.inst.ctl("key", "discovered").stdout.decode(),
                         r"wkd +far@remote.test +none +- ")

    def test_required_and_unreachable_deferred(self):
        code, text = self.submit(["req@down.test"])
        self.assertEqual(code, 451, text)
        self.assertIn(b"cannot be looked up now", text)
        self.inst.wait_log(r"pgp event=wkd domain=down.test result=failed")

    def test_no_lookup_without_wkd_yes(self):
        self.assertEqual(self.submit(["someone@elsewhere.test"])[0], 250)
        self.assertEqual(self.www.count("elsewhere"), 0)
        self.assertNotRegex(self.inst.log(), r"event=wkd domain=elsewhere")

    def test_zz_no_bad_log_lines(self):
        self.assertEqual(self.inst.bad_log_lines(), [])
        self.assertNotIn("sandbox violation", self.inst.log())


if __name__ == "__main__":
    unittest.main()
