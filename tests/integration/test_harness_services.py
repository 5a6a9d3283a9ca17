"""The shared test services later issues build on are real and work:
a dnsmasq test DNS server and rspamd (started once per run)."""

import unittest

from sealpost_test import DnsServer, rspamd

GTUBE = (b"From: a@other.test\r\nTo: demo@example.test\r\nSubject: t\r\n"
         b"Message-ID: <gtube@other.test>\r\n\r\n"
         b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n")


class Services(unittest.TestCase):
    def test_dns_server_answers_mx_and_nxdomain(self):
        dns = DnsServer(["mx-host=example.test,mx.example.test,10",
                         "host-record=mx.example.test,127.0.0.2"]).start()
        try:
            self.assertEqual(dns.query("example.test", 15), (0, 1))     # MX
            self.assertEqual(dns.query("mx.example.test", 1), (0, 1))   # A
            self.assertEqual(dns.query("nothing.example.test", 1)[0], 3)  # NXDOMAIN
        finally:
            dns.stop()

    def test_rspamd_rejects_gtube(self):
        r = rspamd().check(GTUBE, {"From": "a@other.test", "Rcpt": "demo@example.test",
                                   "IP": "192.0.2.10", "Helo": "mx.other.test"})
        self.assertEqual(r["action"], "reject")
        self.assertIn("GTUBE", r["symbols"])
