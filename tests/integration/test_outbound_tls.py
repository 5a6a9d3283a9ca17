"""Outbound TLS (issue 15): required TLS from the policy, the smarthost.

Instance A (127.0.1.2) has a policy with "tls required" for @notls.test,
@good.test and @rogue.test, the test CA as its https-ca-file, and a
dnsmasq for its MX lookups.  Fake remote servers (tests/lib/smtp_remote.py
Sink) on other loopback addresses: mx.notls.test offers no STARTTLS,
mx.good.test has a certificate from the test CA, mx.rogue.test a
self-signed one for its name.  A required-TLS domain whose server offers
no STARTTLS, or fails the certificate check, is deferred (4.7.4, 4.7.5)
and the server never sees MAIL; the good one gets the message over
verified TLS.

Instance S (127.0.1.3) relays everything through a smarthost (a Sink
with AUTH PLAIN and a test CA certificate for relay.test): delivered over
verified TLS with AUTH; a wrong password and a smarthost without STARTTLS
defer the mail (4.7.8, 4.7.4), and a flush after the fix delivers it.

MTA-STS (RFC 8461): A's dnsmasq has _mta-sts TXT records and
mta-sts.DOMAIN addresses for an HTTPS server with a test CA certificate
(tests/lib/https_server.py) serving the policies: enforce listing the MX
(delivered, verified), enforce not listing it (deferred, never sent),
testing not listing it (delivered, logged); a second message uses the
cached policy (no second fetch).

DANE (RFC 7672): instance D (127.0.1.4) resolves through nsd serving
dane.test, signed at test time (tests/lib/nsd_server.py), with the zone's
DS as its dnssec-trust-anchor: ok.dane.test's MX has a TLSA 3 1 1 record
matching the good server's key (delivered, checked=dane-ee), bad.dane.test's
MX (the same server) a mismatching one (deferred, never sent).
"""

import hashlib
import os
import re
import subprocess
import smtplib
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sealpost_test import DnsServer, Instance, free_port, wait_for  # noqa: E402
from smtp_remote import Sink, message  # noqa: E402
from https_server import HttpsServer, TestCA  # noqa: E402
from nsd_server import SignedZone  # noqa: E402

TOP = os.path.join(os.path.dirname(__file__), "..", "..")
A_HOST, S_HOST, D_HOST = "127.0.1.2", "127.0.1.3", "127.0.1.4"
NOTLS_HOST, GOOD_HOST, ROGUE_HOST, RELAY_HOST = (
    "127.0.1.10", "127.0.1.11", "127.0.1.12", "127.0.1.13")
STS_HOST = "127.0.1.20"
STS_POLICIES = {
    "sts.test": "version: STSv1\r\nmode: enforce\r\nmx: *.good.test\r\nmax_age: 86400\r\n",
    "stsbad.test": "version: STSv1\nmode: enforce\nmx: mx.elsewhere.test\nmax_age: 86400\n",
    "ststest.test": "version: STSv1\nmode: testing\nmx: mx.elsewhere.test\nmax_age: 86400\n",
}


class TestOutboundTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sp-otls-", dir="/tmp")
        cls.ca = TestCA(["mx.good.test", "relay.test"] + ["mta-sts." + d for d in STS_POLICIES],
                        rogue_names=["mx.rogue.test"])
        port = free_port()
        relay_port = free_port()
        cls.notls = Sink(NOTLS_HOST, port, "mx.notls.test")
        cls.good = Sink(GOOD_HOST, port, "mx.good.test", cls.ca.cert, cls.ca.key)
        cls.rogue = Sink(ROGUE_HOST, port, "mx.rogue.test", cls.ca.rogue_cert,
                         cls.ca.rogue_key)
        cls.relay = Sink(RELAY_HOST, relay_port, "relay.test", cls.ca.cert, cls.ca.key,
                         auth=("relayuser", "s3cret pass"))
        cls.relay.keep = False      # a fresh connection (and AUTH) each time
        for s in (cls.notls, cls.good, cls.rogue, cls.relay):
            s.start()
        cls.dns = DnsServer(records=[
            "mx-host=notls.test,mx.notls.test,10", "host-record=mx.notls.test,%s" % NOTLS_HOST,
            "mx-host=good.test,mx.good.test,10", "host-record=mx.good.test,%s" % GOOD_HOST,
            "mx-host=rogue.test,mx.rogue.test,10", "host-record=mx.rogue.test,%s" % ROGUE_HOST,
            "mx-host=open.test,mx.rogue.test,10",
            "host-record=relay.test,%s" % RELAY_HOST,
            "mx-host=sts.test,mx.good.test,10",
            "mx-host=stsbad.test,mx.rogue.test,10",
            "mx-host=ststest.test,mx.rogue.test,10",
        ] + ["txt-record=_mta-sts.%s,\"v=STSv1; id=1\"" % d for d in STS_POLICIES]
          + ["host-record=mta-sts.%s,%s" % (d, STS_HOST) for d in STS_POLICIES]).start()
        # the policies, on an HTTPS server chosen by Host
        roots = {}
        for d, text in STS_POLICIES.items():
            root = os.path.join(cls.tmp, "www", d)
            os.makedirs(os.path.join(root, ".well-known"))
            with open(os.path.join(root, ".well-known", "mta-sts.txt"), "w") as f:
                f.write(text)
            roots["mta-sts." + d] = root
        https_port = free_port()
        cls.https = HttpsServer((STS_HOST, https_port), cls.ca.cert, cls.ca.key,
                                roots=roots).start()
        # the policy: the defaults, and TLS required for three domains
        pdir = os.path.join(cls.tmp, "policy")
        os.mkdir(pdir)
        with open(os.path.join(TOP, "policy", "default.policy")) as f:
            default = f.read()
        with open(os.path.join(pdir, "default.policy"), "w") as f:
            f.write(default)
        with open(os.path.join(pdir, "tls.policy"), "w") as f:
            f.write("rule tls-domains {\n\trecipient @notls.test @good.test @rogue.test\n"
                    "\ttls required\n}\n")
        common = ["dns-resolver 127.0.0.1@%d" % cls.dns.port, "outbound-port %d" % port,
                  "outbound-timeout 5s", "queue-first-retry 1h", "queue-retry-interval 1h",
                  "https-ca-file %s" % cls.ca.ca, "https-port %d" % https_port,
                  "instance-type test", "kdf-strength test"]
        cls.a = Instance("otls-a", host=A_HOST, extra_conf=common + [
            "policy-dir %s" % pdir]).start()
        # the smarthost's credentials: root's, mode 0600
        auth = os.path.join(cls.tmp, "smarthost-auth")
        fd = os.open(auth, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"relayuser s3cret pass\n")
        os.close(fd)
        cls.s = Instance("otls-s", host=S_HOST, extra_conf=common + [
            "smarthost relay.test:%d" % relay_port,
            "smarthost-auth-file %s" % auth]).start()
        # DANE: the good server's key as a DANE-EE SPKI SHA-256 (3 1 1)
        spki = subprocess.run(
            "openssl x509 -in %s -pubkey -noout | openssl pkey -pubin -outform DER"
            % cls.ca.cert, shell=True, check=True, capture_output=True).stdout
        cls.zone = SignedZone("dane.test", [
            "ok IN MX 10 mx.ok", "mx.ok IN A %s" % GOOD_HOST,
            "_25._tcp.mx.ok IN TLSA 3 1 1 %s" % hashlib.sha256(spki).hexdigest(),
            "bad IN MX 10 mx.bad", "mx.bad IN A %s" % GOOD_HOST,
            "_25._tcp.mx.bad IN TLSA 3 1 1 %s" % ("00" * 32),
        ]).start()
        ta = cls.zone.trust_anchor_file(os.path.join(cls.tmp, "trust-anchor"))
        cls.d = Instance("otls-d", host=D_HOST, extra_conf=[
            "dns-resolver 127.0.0.1@%d" % cls.zone.port, "outbound-port %d" % port,
            "outbound-timeout 5s", "queue-first-retry 1h", "queue-retry-interval 1h",
            "dnssec-trust-anchor %s" % ta, "instance-type test",
            "kdf-strength test"]).start()

    @classmethod
    def tearDownClass(cls):
        # the servers, nsd and dnsmasq stopped even when a finish()
        # reports bad log lines
        try:
            for s in (cls.notls, cls.good, cls.rogue, cls.relay):
                s.stop()
            cls.https.stop()
            try:
                cls.d.finish()
            finally:
                try:
                    cls.s.finish()
                finally:
                    cls.a.finish()
        finally:
            cls.zone.stop()
            cls.dns.stop()
            cls.ca.close()

    def test_zz_password_never_logged(self):
        """After the smarthost test: the AUTH password is in no log."""
        self.assertRegex(self.s.log(), r"remote=relay\.test")  # it ran
        for inst in (self.a, self.s, self.d):
            self.assertNotIn("s3cret", inst.log())

    # -- helpers ----------------------------------------------------------
    @staticmethod
    def submit(inst, rcpts, msg):
        with smtplib.SMTP(inst.host, inst.port("submission"), timeout=60) as s:
            s.starttls(context=inst.tls_context())
            s.login("demo@example.test", inst.demo_password)
            s.sendmail("demo@example.test", rcpts, msg)

    @staticmethod
    def queue_with(inst, rcpt):
        """The queue entry for rcpt and its "queue show" text, or None."""
        out = inst.ctl("queue", "list").stdout.decode()
        for qid in re.findall(r"^([0-9a-f]{32}) ", out, re.M):
            r = inst.ctl("queue", "show", qid, check=False)
            if r.returncode == 0 and ("<%s>" % rcpt) in r.stdout.decode():
                return qid, r.stdout.decode()
        return None

    def wait_deferred(self, inst, rcpt, pattern):
        """rcpt's queue entry once its last reply matches pattern."""
        def deferred():
            q = self.queue_with(inst, rcpt)
            return q if q and re.search(pattern, q[1]) else None
        return wait_for(deferred, 20, "%s deferred with %s" % (rcpt, pattern), interval=0.3)

    # -- required TLS from the policy ----------------------------------------
    def test_required_tls_without_starttls_is_deferred(self):
        """T48's downgrade: the server offers no STARTTLS, so nothing of the
        message goes: 4.7.4 in the queue, no MAIL at the server."""
        self.submit(self.a, ["x@notls.test"], message("otls-notls", to="x@notls.test"))
        qid, show = self.wait_deferred(self.a, "x@notls.test", r"4\.7\.4 TLS is required")
        self.assertFalse(self.notls.saw(b"MAIL"))
        self.assertFalse(self.notls.saw(b"DATA"))
        self.assertTrue(self.notls.saw(b"EHLO"))
        self.a.wait_log(r"mta event=attempt id=%s domain=notls\.test .* sent=0 deferred=1"
                        % qid)

    def test_required_tls_verified_is_delivered(self):
        """A certificate from the test CA for the MX name: delivered."""
        self.submit(self.a, ["y@good.test"], message("otls-good", to="y@good.test"))
        got = wait_for(lambda: self.good.messages(b"otls-good"), 20, "the message at good")
        self.assertTrue(got[0]["tls"])
        self.a.wait_log(r"mta event=attempt id=\w+ domain=good\.test remote=mx\.good\.test "
                        r".*tls=1 checked=pkix\(policy\) sent=1")

    def test_required_tls_bad_certificate_is_deferred(self):
        """A self-signed certificate: the check fails, no plaintext retry."""
        self.submit(self.a, ["z@rogue.test"], message("otls-rogue", to="z@rogue.test"))
        self.wait_deferred(self.a, "z@rogue.test", r"4\.7\.5 TLS with mx\.rogue\.test is "
                           r"required \(policy\) and failed: certificate")
        self.assertFalse(self.rogue.saw(b"RCPT TO:<z@rogue.test>"))
        self.assertFalse(self.rogue.messages(b"otls-rogue"))

    def test_opportunistic_still_takes_any_certificate(self):
        """A domain the policy does not list: the rogue certificate is used
        unchecked, as before (RFC 7435)."""
        self.submit(self.a, ["w@open.test"], message("otls-open", to="w@open.test"))
        got = wait_for(lambda: self.rogue.messages(b"otls-open"), 20, "the message at rogue")
        self.assertTrue(got[0]["tls"])

    # -- the smarthost -------------------------------------------------------
    def test_smarthost(self):
        """Delivered through the smarthost with AUTH inside verified TLS;
        a wrong password, then no STARTTLS, defer it; fixed, a flush
        delivers."""
        self.submit(self.s, ["r1@anywhere.test"], message("otls-relay1", to="r1@anywhere.test"))
        got = wait_for(lambda: self.relay.messages(b"otls-relay1"), 20, "relayed")[0]
        self.assertEqual(got["user"], "relayuser")
        self.assertTrue(got["tls"])
        # AUTH never before TLS
        self.assertFalse(any(l.upper().startswith(b"AUTH") and not tls
                             for tls, l in self.relay.commands))
        self.s.wait_log(r"mta event=attempt id=\w+ domain=anywhere\.test remote=relay\.test "
                        r".*checked=pkix\(smarthost\) sent=1")
        # the smarthost refuses the credentials: for now, not a bounce
        self.relay.auth = ("relayuser", "another")
        self.submit(self.s, ["r2@anywhere.test"], message("otls-relay2", to="r2@anywhere.test"))
        qid, _ = self.wait_deferred(self.s, "r2@anywhere.test",
                                    r"4\.7\.8 the server refused our AUTH \(535")
        # without STARTTLS: for now
        self.relay.auth = ("relayuser", "s3cret pass")
        self.relay.offer_tls = False
        n = len(self.relay.commands)
        self.s.ctl("queue", "flush", qid)
        self.wait_deferred(self.s, "r2@anywhere.test", r"4\.7\.4 TLS is required")
        self.assertFalse(any(l.upper().startswith((b"AUTH", b"MAIL"))
                             for _, l in self.relay.commands[n:]))
        # fixed: delivered
        self.relay.offer_tls = True
        self.s.ctl("queue", "flush", qid)
        wait_for(lambda: self.relay.messages(b"otls-relay2"), 20, "relayed after the fix")
        wait_for(lambda: self.queue_with(self.s, "r2@anywhere.test") is None, 10,
                 "the queue emptied")

    # -- MTA-STS -------------------------------------------------------------
    def test_mta_sts_enforce(self):
        """The MX matches the policy's *.good.test: delivered over TLS
        checked against the MX name; the next message uses the cache."""
        self.submit(self.a, ["s1@sts.test"], message("otls-sts1", to="s1@sts.test"))
        wait_for(lambda: self.good.messages(b"otls-sts1"), 20, "delivered under MTA-STS")
        self.a.wait_log(r"mta event=attempt id=\w+ domain=sts\.test remote=mx\.good\.test "
                        r".*checked=pkix\(mta-sts\) sent=1")
        self.a.wait_log(r'mta event=mta-sts id=\w+ domain=sts\.test policy="fetched" '
                        r'mode=enforce')
        self.assertEqual(self.https.count("mta-sts.sts.test"), 1)
        self.submit(self.a, ["s2@sts.test"], message("otls-sts2", to="s2@sts.test"))
        wait_for(lambda: self.good.messages(b"otls-sts2"), 20, "delivered again")
        self.a.wait_log(r'mta event=mta-sts id=\w+ domain=sts\.test policy="cached"')
        self.assertEqual(self.https.count("mta-sts.sts.test"), 1)

    def test_mta_sts_enforce_mx_not_listed(self):
        """The MX is not in the enforced policy: deferred, never sent."""
        self.submit(self.a, ["s3@stsbad.test"], message("otls-sts3", to="s3@stsbad.test"))
        self.wait_deferred(self.a, "s3@stsbad.test", r"4\.7\.5 mx\.rogue\.test is not an "
                           r"MX host the domain's MTA-STS policy lists")
        self.assertFalse(self.rogue.saw(b"RCPT TO:<s3@stsbad.test>"))

    def test_mta_sts_testing(self):
        """testing: delivered as before, the mismatch logged."""
        self.submit(self.a, ["s4@ststest.test"], message("otls-sts4", to="s4@ststest.test"))
        wait_for(lambda: self.rogue.messages(b"otls-sts4"), 20, "delivered in testing mode")
        self.a.wait_log(r"mta event=mta-sts id=\w+ domain=ststest\.test host=mx\.rogue\.test "
                        r"mode=testing result=mx-mismatch")

    # -- DANE ----------------------------------------------------------------
    def test_dane(self):
        """A validated TLSA record matching the server's key: delivered
        (DANE-EE: no name check, the certificate's name is another);
        a mismatching one: deferred, never sent."""
        self.submit(self.d, ["d1@ok.dane.test"], message("otls-dane1", to="d1@ok.dane.test"))
        wait_for(lambda: self.good.messages(b"otls-dane1"), 20, "delivered under DANE")
        self.d.wait_log(r"mta event=attempt id=\w+ domain=ok\.dane\.test "
                        r"remote=mx\.ok\.dane\.test .*checked=dane-ee\(dane\) sent=1")
        self.submit(self.d, ["d2@bad.dane.test"], message("otls-dane2", to="d2@bad.dane.test"))
        self.wait_deferred(self.d, "d2@bad.dane.test", r"4\.7\.5 TLS with mx\.bad\.dane\.test "
                           r"is required \(dane\) and failed: certificate")
        self.assertFalse(self.good.saw(b"RCPT TO:<d2@bad.dane.test>"))


if __name__ == "__main__":
    unittest.main()
