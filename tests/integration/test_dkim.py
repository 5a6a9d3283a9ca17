"""DKIM signing of outgoing mail (issue 15): instance A (127.0.0.2) has an
RSA and an Ed25519 key for example.test, made with `sealpostctl dkim gen`
and taken up by `sealpostctl reload`; it sends to instance B (127.0.0.3),
whose filter asks a real rspamd that resolves the _domainkey TXT records
(exactly as `sealpostctl dkim record` printed them) through the test's
dnsmasq.  B's stored copies carry Authentication-Results with dkim=pass;
rspamd names both selectors under R_DKIM_ALLOW, and dkimpy (python3-dkim
with python3-nacl) verifies each signature on its own.  An 8-bit message
is made 7-bit before it is signed and still verifies; a header changed
after signing fails; a sender domain without a key goes unsigned.
"""

import email
import email.utils
import os
import re
import smtplib
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sealpost_test import DnsServer, Instance, Rspamd, wait_for  # noqa: E402

A_HOST, B_HOST = "127.0.0.2", "127.0.0.3"
PYTHON = "/usr/bin/python3"     # Debian's, which sees python3-dkim

VERIFY = r"""
import sys, dkim
msg = open(sys.argv[1], 'rb').read()
recs = dict(a.split('=', 1) for a in sys.argv[2:])
def dns(name, timeout=5):
    return recs.get(name.decode().rstrip('.'), '').encode()
d = dkim.DKIM(msg)
n = sum(1 for h in d.headers if h[0].lower() == b'dkim-signature')
res = []
for i in range(n):
    try:
        res.append(bool(d.verify(idx=i, dnsfunc=dns)))
    except Exception as e:
        res.append(False)
print(' '.join('pass' if r else 'fail' for r in res))
"""


def message(subject, sender="demo@example.test", body=b"hello there\r\n", extra=b""):
    return (b"From: Demo <" + sender.encode() + b">\r\nTo: <bob@b.test>\r\n"
            b"Date: " + email.utils.formatdate().encode() + b"\r\n"
            b"Subject: " + subject.encode() + b"\r\nMessage-ID: <" + subject.encode()
            + b"@example.test>\r\nMIME-Version: 1.0\r\n" + extra + b"\r\n" + body)


class DkimTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = DnsServer(records=[
            "mx-host=b.test,mx.b.test,10", "host-record=mx.b.test,%s" % B_HOST])
        # loopback is a local network to rspamd, which checks no DKIM
        # there unless told to
        cls.rspamd = Rspamd(dns=cls.dns, conf={
            "local.d/dkim.conf": "check_local = true;\ncheck_authed = true;\n"}).start()
        cls.b = Instance("dkim-b", host=B_HOST, extra_conf=[
            "hostname mx.b.test", "domain b.test", "rspamd-url " + cls.rspamd.url,
            "instance-type test", "kdf-strength test"]).start()
        cls.a = Instance("dkim-a", host=A_HOST, extra_conf=[
            "dns-resolver 127.0.0.1@%d" % cls.dns.port,
            "outbound-port %d" % cls.b.port("smtp"),
            "instance-type test", "kdf-strength test"]).start()
        cls.b.ctl("domain", "add", "b.test")
        cls.b.add_user("bob@b.test")
        # the keys, then their records in the DNS, then a reload
        cls.records = {}
        for args, sel in ((["--selector", "rsa1"], "rsa1"),
                          (["--ed25519", "--selector", "ed1"], "ed1")):
            out = cls.a.ctl("dkim", "gen", "example.test", *args).stdout.decode()
            again = cls.a.ctl("dkim", "record", "example.test", sel).stdout.decode()
            assert out == again, (out, again)
            m = re.match(r'^(\S+)\._domainkey\.(\S+)\. IN TXT((?: "[^"]*")+)\n$', out)
            assert m and m.group(1) == sel and m.group(2) == "example.test", out
            chunks = re.findall(r'"([^"]*)"', m.group(3))
            assert all(len(c) <= 255 for c in chunks)
            name = "%s._domainkey.example.test" % sel
            cls.records[name] = "".join(chunks)
            cls.dns.records.append("txt-record=%s,%s" % (
                name, ",".join('"%s"' % c for c in chunks)))
        cls.dns.start()
        cls.a.ctl("reload")
        cls.a.wait_log(r"signer: 2 keys", timeout=20)
        cls.a.wait_services_ready()

    @classmethod
    def tearDownClass(cls):
        # rspamd and dnsmasq stopped even when finish() reports bad lines
        try:
            try:
                cls.a.finish()
            finally:
                cls.b.finish()
        finally:
            cls.rspamd.stop()
            cls.dns.stop()

    # -- helpers ------------------------------------------------------------
    def submit(self, msg, sender="demo@example.test", options=()):
        with smtplib.SMTP(self.a.host, self.a.port("submission"), timeout=60) as s:
            s.starttls(context=self.a.tls_context())
            s.login("demo@example.test", self.a.demo_password)
            s.sendmail(sender, ["bob@b.test"], msg, mail_options=list(options))

    def received(self, subject, timeout=30):
        """bob@b.test's stored copy (raw bytes) whose Subject is subject."""
        def find():
            m = self.b.imaps("bob@b.test")
            try:
                m.select("INBOX", readonly=True)
                _, data = m.search(None, "SUBJECT", '"%s"' % subject)
                for num in data[0].split():
                    _, d = m.fetch(num, "(BODY.PEEK[])")
                    return d[0][1]
            finally:
                m.logout()
            return None
        return wait_for(find, timeout, subject + " at B", interval=0.5)

    def dkimpy(self, raw):
        path = os.path.join(self.b.tmp, "verify.eml")
        with open(path, "wb") as f:
            f.write(raw)
        r = subprocess.run([PYTHON, "-c", VERIFY, path] +
                           ["%s=%s" % kv for kv in self.records.items()],
                           capture_output=True, check=True)
        return r.stdout.decode().split()

    def rspamd_dkim(self, raw):
        """rspamd's own word on raw: {symbol: options} of its DKIM symbols."""
        r = self.rspamd.check(raw, headers={"IP": "127.0.0.2", "From": "demo@example.test"})
        return {k: v.get("options", []) for k, v in r.get("symbols", {}).items()
                if "DKIM" in k}

    def check_signed(self, raw):
        head = raw.split(b"\r\n\r\n", 1)[0]
        self.assertRegex(head, rb"Authentication-Results: mx\.b\.test;[^\r\n]*"
                               rb"(\r\n\s[^\r\n]*)*dkim=pass")
        sigs = re.findall(rb"^DKIM-Signature: .*(?:\r\n\s.*)*", head, re.M)
        self.assertEqual(len(sigs), 2, head)
        algs = sorted(re.search(rb"a=([\w-]+);", s).group(1) for s in sigs)
        self.assertEqual(algs, [b"ed25519-sha256", b"rsa-sha256"])
        syms = self.rspamd_dkim(raw)
        self.assertIn("R_DKIM_ALLOW", syms, syms)
        allow = " ".join(syms["R_DKIM_ALLOW"])
        self.assertIn("example.test:s=rsa1", allow)
        self.assertIn("example.test:s=ed1", allow)
        self.assertNotIn("R_DKIM_REJECT", syms)
        self.assertEqual(self.dkimpy(raw), ["pass", "pass"])

    # -- tests --------------------------------------------------------------
    def test_both_signatures_pass(self):
        self.submit(message("dkim-plain"))
        raw = self.received("dkim-plain")
        self.check_signed(raw)
        self.a.wait_log(r"signer event=signed domain=example\.test signatures=2")

    def test_8bit_made_7bit_then_signed(self):
        body = "Grüße aus Köln: naïve café\r\n".encode()
        self.submit(message("dkim-8bit", body=body, extra=(
            b"Content-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: 8bit\r\n")), options=["BODY=8BITMIME"])
        raw = self.received("dkim-8bit")
        self.check_signed(raw)
        self.assertTrue(all(c < 128 for c in raw), "not 7-bit")
        self.assertIn(b"Content-Transfer-Encoding: quoted-printable", raw)
        msg = email.message_from_bytes(raw)
        self.assertEqual(msg.get_payload(decode=True), body)

    def test_tampered_header_fails(self):
        self.submit(message("dkim-tamper"))
        raw = self.received("dkim-tamper")
        bad = raw.replace(b"Subject: dkim-tamper", b"Subject: dkim-tampered", 1)
        self.assertNotEqual(bad, raw)
        syms = self.rspamd_dkim(bad)
        self.assertIn("R_DKIM_REJECT", syms, syms)
        self.assertNotIn("R_DKIM_ALLOW", syms)
        self.assertEqual(self.dkimpy(bad), ["fail", "fail"])
        # a From added on top: oversigned, so it fails too
        self.assertEqual(self.dkimpy(b"From: eve@evil.test\r\n" + raw), ["fail", "fail"])

    def test_domain_without_key_unsigned(self):
        self.submit(message("dkim-nokey", sender="demo@other.test"))
        raw = self.received("dkim-nokey")
        self.assertNotIn(b"DKIM-Signature:", raw)

    def test_list_and_standby(self):
        out = self.a.ctl("dkim", "list").stdout.decode()
        self.assertRegex(out, r"example\.test\s+rsa1\s+rsa\s+in-use")
        self.assertRegex(out, r"example\.test\s+ed1\s+ed25519\s+in-use")
        # a second RSA key is made on standby; refusing to overwrite
        r = self.a.ctl("dkim", "gen", "example.test", "--selector", "rsa1", check=False)
        self.assertEqual(r.returncode, 1)
        self.a.ctl("dkim", "gen", "example.test", "--selector", "rsa2")
        out = self.a.ctl("dkim", "list").stdout.decode()
        self.assertRegex(out, r"example\.test\s+rsa2\s+rsa\s+standby")
        self.a.ctl("dkim", "remove", "example.test", "rsa2")
        self.assertNotIn("rsa2", self.a.ctl("dkim", "list").stdout.decode())
        r = self.a.ctl("dkim", "gen", "../etc", check=False)
        self.assertEqual(r.returncode, 1)


if __name__ == "__main__":
    unittest.main()
