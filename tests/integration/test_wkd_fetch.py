"""Web Key Directory lookups by the mta (issue 13, the mta's side): the real
mta of a test instance, asked as the pgp service would ask it
(IMSG_MTA_WKD) through the master's test hook RUN_DIR/test-mta.sock
("test-mta-socket on") by tests/tools/wkdask.  The remote side is real
too: a test CA and server certificates made here with the openssl CLI,
HTTPS servers (http.server + ssl) on 127.0.0.x serving a WKD tree, and a
dnsmasq for the names (openpgpkey.a.test exists: the advanced method;
c.test has no openpgpkey host: the direct method).

Cases: advanced 200 (the body byte for byte, l= percent-encoded), advanced
404 with no fall back to the direct method, direct 200, no such domain, a
certificate from another CA (tls), bodies past WKD_KEY_MAX with and
without a Content-Length, a redirect (not followed: none), a 503, a
server that never answers (temp within the mta's timeout) while a ninth
lookup is refused at once as busy, malformed requests (the session
dropped, the mta alive), and the same basic cases against the build
without sanitizers (what runs in production) for the sandbox."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sealpost_test import BUILD, DnsServer, Instance, free_port, wait_for  # noqa: E402
from https_server import HttpsServer, TestCA, wkd_hash  # noqa: E402

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
ADV_HOST, DIRECT_HOST, BADCERT_HOST, HANG_HOST, SLOW_HOST = (
    "127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24", "127.0.0.25")
KEY_MAX = 256 * 1024            # WKD_KEY_MAX
ZB32 = "ybndrfg8ejkmcpqxot1uwisza345h769"


class Silent(threading.Thread):
    """Takes connections and never says a word (not even TLS)."""

    def __init__(self, addr):
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(addr)
        self.sock.listen(32)
        self.conns = []

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)

    def stop(self):
        self.sock.close()
        for c in self.conns:
            c.close()


class ServFail(threading.Thread):
    """A DNS server on a loopback UDP port that answers SERVFAIL to
    everything (dnsmasq forwards fail.test to it)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def run(self):
        while True:
            try:
                q, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            if len(q) >= 12:    # the question back, QR RD RA, rcode 2
                self.sock.sendto(q[:2] + b"\x81\x82" + q[4:6] + bytes(6) + q[12:], peer)

    def stop(self):
        self.sock.close()


class Mute:
    """A UDP port that takes DNS queries and never answers them."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def stop(self):
        self.sock.close()


class Remotes:
    """Everything outside the instance: PKI, web servers, DNS."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="sp-wkd-", dir="/tmp")
        self.ca = TestCA(["openpgpkey.a.test", "a.test", "c.test",
                          "openpgpkey.badcert.test", "openpgpkey.hang.test",
                          "openpgpkey.slow.test"],
                         rogue_names=["openpgpkey.badcert.test"])
        self.port = free_port()
        self.alice_key = os.urandom(3000) + b"\x00\r\n-----"
        self.carol_key = os.urandom(5000)
        self.bob_direct = os.urandom(100)
        big = os.urandom(KEY_MAX + 4096)
        adv = "/.well-known/openpgpkey/a.test/hu/"
        self.adv_files = {
            adv + wkd_hash("alice"): (200, self.alice_key, {}),
            adv + wkd_hash("big"): (200, big, {}),
            adv + wkd_hash("bigchunk"): (200, big, {"no-length": "1"}),
            adv + wkd_hash("exact"): (200, big[:KEY_MAX], {}),
            adv + wkd_hash("moved"): (301, b"", {"Location": "https://" + DIRECT_HOST + "/x"}),
            adv + wkd_hash("broken"): (503, b"busy\n", {}),
            "/.well-known/openpgpkey/a.test/policy": (200, b"", {}),
        }
        direct = "/.well-known/openpgpkey/hu/"
        self.direct_files = {
            direct + wkd_hash("carol"): (200, self.carol_key, {}),
            # a.test's bob only by the direct method: never to be asked
            direct + wkd_hash("bob"): (200, self.bob_direct, {}),
        }
        srv = (self.ca.cert, self.ca.key)
        self.adv = HttpsServer((ADV_HOST, self.port), *srv, self.adv_files).start()
        self.direct = HttpsServer((DIRECT_HOST, self.port), *srv, self.direct_files).start()
        self.badcert = HttpsServer((BADCERT_HOST, self.port), self.ca.rogue_cert,
                                   self.ca.rogue_key,
                                   {"/.well-known/openpgpkey/badcert.test/hu/"
                                    + wkd_hash("eve"): (200, b"key", {})}).start()
        self.hang = Silent((HANG_HOST, self.port))
        self.hang.start()
        # TLS, the request read, then nothing for longer than the mta waits
        self.slow = HttpsServer((SLOW_HOST, self.port), *srv,
                                {"/.well-known/openpgpkey/slow.test/hu/"
                                 + wkd_hash("x"): (200, b"late", {"sleep": "14"})}).start()
        self.servfail = ServFail()
        self.servfail.start()
        self.mute = Mute()
        self.dns = DnsServer(records=[
            "server=/fail.test/127.0.0.1#%d" % self.servfail.port,
            "server=/dnshang.test/127.0.0.1#%d" % self.mute.port,
            "host-record=openpgpkey.a.test,%s" % ADV_HOST,
            "host-record=a.test,%s" % DIRECT_HOST,
            "host-record=c.test,%s" % DIRECT_HOST,
            "host-record=openpgpkey.badcert.test,%s" % BADCERT_HOST,
            "host-record=openpgpkey.hang.test,%s" % HANG_HOST,
            "host-record=openpgpkey.slow.test,%s" % SLOW_HOST,
        ]).start()

    def conf(self):
        return ["dns-resolver 127.0.0.1@%d" % self.dns.port,
                "https-port %d" % self.port,
                "https-ca-file %s" % self.ca.ca,
                "test-mta-socket on"]

    def stop(self):
        for s in (self.adv, self.direct, self.badcert, self.hang, self.slow,
                  self.servfail, self.mute):
            s.stop()
        self.dns.stop()
        self.ca.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


ANSWER = re.compile(r"id=(\d+) result=(\w+) ms=(\d+) len=(\d+) what=(.*)")


class WkdBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.r = Remotes()
        try:
            cls.inst = Instance("wkd", build=cls.build, extra_conf=cls.r.conf()).start()
            cls.inst.wait_services_ready()
        except Exception:
            cls.r.stop()
            raise
        cls.sock = os.path.join(cls.inst.dir, "run", "test-mta.sock")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.inst.finish()
        finally:
            cls.r.stop()

    def ask(self, *args, count=None, out=None, timeout=40):
        """wkdask; returns its answers as (result, ms, len, what), or the
        one word "closed" / "timeout"."""
        cmd = [os.path.join(BUILD, "tests", "tools", "wkdask")]
        if count:
            cmd += ["-n", str(count)]
        if out:
            cmd += ["-o", out]
        p = subprocess.run(cmd + [self.sock] + list(args), capture_output=True,
                           timeout=timeout)
        lines = p.stdout.decode().splitlines()
        self.assertTrue(lines, p.stderr.decode())
        if lines[-1] in ("closed", "timeout"):
            return lines[-1]
        res = []
        for l in lines:
            m = ANSWER.fullmatch(l)
            self.assertIsNotNone(m, l)
            res.append((m.group(2), int(m.group(3)), int(m.group(4)), m.group(5)))
        return res

    def one(self, address, out=None):
        res = self.ask(address, out=out)
        self.assertIsInstance(res, list, res)
        self.assertEqual(len(res), 1)
        return res[0]

    def mta_pid(self):
        return self.inst.service("mta")["pid"]

    def test_advanced_found(self):
        out = os.path.join(self.r.tmp, "alice.out")
        result, _, n, what = self.one("alice@a.test", out=out)
        self.assertEqual((result, what), ("found", "advanced 200"))
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.r.alice_key)
        self.assertEqual(n, len(self.r.alice_key))
        self.assertIn(("/.well-known/openpgpkey/a.test/hu/%s?l=alice" % wkd_hash("alice"),
                       "openpgpkey.a.test:%d" % self.r.port), self.r.adv.seen)
        # one line per fetch: the domain, never the local part
        line = self.inst.wait_log(r"mta event=wkd domain=a\.test method=advanced "
                                  r"result=found status=200 ms=\d+ bytes=%d[^\n]*"
                                  % len(self.r.alice_key))
        self.assertNotIn("alice", line.group(0))

    def test_advanced_404_no_fallback(self):
        """openpgpkey.a.test exists: its 404 is the answer, even though
        a.test itself would serve a key by the direct method (draft 3.1)."""
        self.assertEqual(self.one("bob@a.test")[::3], ("none", "advanced 404"))
        self.assertFalse([s for s in self.r.direct.seen if wkd_hash("bob") in s[0]])

    def test_local_part_encoded(self):
        """l= is the local part as written, percent-encoded; the server's
        404 is a "none"."""
        self.assertEqual(self.one("O'Neil+x&y=z@a.test")[::3], ("none", "advanced 404"))
        self.assertIn("/.well-known/openpgpkey/a.test/hu/%s?l=O%%27Neil%%2Bx%%26y%%3Dz"
                      % wkd_hash("O'Neil+x&y=z"), [s[0] for s in self.r.adv.seen])

    def test_direct_found(self):
        out = os.path.join(self.r.tmp, "carol.out")
        self.assertEqual(self.one("carol@c.test", out=out)[::3], ("found", "direct 200"))
        with open(out, "rb") as f:
            self.assertEqual(f.read(), self.r.carol_key)
        self.assertIn(("/.well-known/openpgpkey/hu/%s?l=carol" % wkd_hash("carol"),
                       "c.test:%d" % self.r.port), self.r.direct.seen)

    def test_no_such_domain(self):
        result, _, _, what = self.one("x@nothing.test")
        self.assertEqual(result, "none")
        self.assertTrue(what.startswith("direct dns:"), what)

    def test_dns_failure(self):
        """SERVFAIL for openpgpkey.fail.test: for now, and no direct
        method tried."""
        result, ms, _, what = self.one("x@fail.test")
        self.assertEqual(result, "temp")
        self.assertTrue(what.startswith("advanced dns: "), what)

    def test_certificate_from_another_ca(self):
        result, _, _, what = self.one("eve@badcert.test")
        self.assertEqual(result, "temp")
        self.assertTrue(what.startswith("advanced tls:"), what)
        self.assertFalse(self.r.badcert.seen)   # not a byte of HTTP

    def test_too_big(self):
        for who in ("big", "bigchunk"):
            result, _, n, what = self.one(who + "@a.test")
            self.assertEqual((result, n), ("temp", 0), who)
            self.assertTrue(what.startswith("advanced too big"), what)
        # WKD_KEY_MAX exactly is still a key
        self.assertEqual(self.one("exact@a.test")[::2], ("found", KEY_MAX))

    def test_redirect_not_followed(self):
        n = len(self.r.direct.seen)
        self.assertEqual(self.one("moved@a.test")[::3],
                         ("none", "advanced 301 redirect not followed"))
        self.assertEqual(len(self.r.direct.seen), n)

    def test_server_error(self):
        self.assertEqual(self.one("broken@a.test")[::3], ("temp", "advanced 503"))


class WkdFetch(WkdBase, unittest.TestCase):

    def test_silent_servers_and_busy(self):
        """Four lookups of a server that takes the TCP connection and
        never says a word (the connect timeout, TLS included: 5 s), three
        of one that takes the request and never answers (the total
        timeout: 10 s) and one whose DNS server's forwarder never answers
        (dnsmasq's SERVFAIL after about 3 s; the mta's own deadline, 12 s,
        would come first otherwise) fill the mta's eight slots: one more
        is refused at once.  All within the pgp side's 15 s."""
        out = {}

        def ask(name, address, n):
            out[name] = self.ask(address, count=n)
        t0 = time.monotonic()
        ts = [threading.Thread(target=ask, args=a)
              for a in (("dns", "x@dnshang.test", 1), ("hang", "x@hang.test", 4),
                        ("slow", "x@slow.test", 3))]
        for t in ts:
            t.start()
        wait_for(lambda: len(self.r.slow.seen) == 3 and len(self.r.hang.conns) == 4,
                 5, "eight lookups under way")
        busy = self.one("alice@a.test")
        self.assertEqual(busy[::3], ("temp", "busy"))
        self.assertLess(busy[1], 1000)
        for t in ts:
            t.join()
        took = time.monotonic() - t0
        for name, n, low, high, what in (
                ("hang", 4, 4500, 7000, "advanced timeout: no TLS connection within 5000 ms"),
                ("slow", 3, 9500, 12000, "advanced timeout: no answer within 10000 ms"),
                ("dns", 1, 0, 12500, "advanced dns:")):
            res = out[name]
            self.assertIsInstance(res, list, res)
            self.assertEqual(len(res), n)
            for result, ms, _, w in res:
                # DNS: dnsmasq's own SERVFAIL, or the mta's deadline
                self.assertEqual(result, "temp")
                self.assertTrue(w.startswith(what), (name, w))
                self.assertTrue(low <= ms <= high, (name, ms))
        self.assertLess(took, 14.5)
        # the slots are free again
        self.assertEqual(self.one("alice@a.test")[0], "found")

    def test_malformed_requests_drop_the_session(self):
        pid = self.mta_pid()
        good = wkd_hash("alice")
        for fields in (("A.test", good, "alice"),         # upper case
                       ("a.test", good[:31], "alice"),     # short hash
                       ("a.test", good[:31] + "l", "alice"),   # not z-base-32
                       ("a.test", good, "al\rice"),        # a control byte
                       ("a.test", good, "x" * 65),         # too long
                       ("a.test", good, ""),
                       ("127.0.0.1", good, "alice"),
                       ("a.test/..", good, "alice")):
            self.assertEqual(self.ask("-r", *fields), "closed", fields)
        self.assertEqual(self.mta_pid(), pid)
        self.assertEqual(self.one("alice@a.test")[0], "found")
        self.inst.wait_log(r"mta event=malformed action=drop-session")
        self.assertNotIn("sandbox violation", self.inst.log())


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class WkdFetchPlain(WkdBase, unittest.TestCase):
    """The same without sanitizers (the sandbox's allow-lists differ)."""
    build = PLAIN

    def test_no_sandbox_violation(self):
        self.assertEqual(self.one("alice@a.test")[0], "found")
        self.assertEqual(self.one("eve@badcert.test")[0], "temp")
        self.assertNotIn("sandbox violation", self.inst.log())


if __name__ == "__main__":
    unittest.main()
