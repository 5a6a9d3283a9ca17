"""Many short connections to every listener, some cut off mid-way: each is
served, every session process ends, nothing piles up.  The count scales
with SEALPOST_TEST_SCALE (CI 1, nightly 10)."""

import re
import unittest

from sealpost_test import SCALE, Instance, connect, read_line, wait_for

GREETING = {"smtp": b"220 ", "submission": b"220 ", "submissions": b"220 ",
            "imap": b"* OK ", "imaps": b"* OK ", "pop3": b"+OK ", "pop3s": b"+OK "}
BYE = {"smtp": b"QUIT\r\n", "submission": b"QUIT\r\n", "submissions": b"QUIT\r\n",
       "imap": b"a LOGOUT\r\n", "imaps": b"a LOGOUT\r\n",
       "pop3": b"QUIT\r\n", "pop3s": b"QUIT\r\n"}
TLS = ("submissions", "imaps", "pop3s")


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


class Churn(unittest.TestCase):
    def test_connection_churn(self):
        n = 20 * SCALE
        with Instance("churn") as inst:
            ctx = inst.tls_context()
            for i in range(n):
                for kind, greet in GREETING.items():
                    c = connect(inst.port(kind))
                    if kind in TLS:
                        c = ctx.wrap_socket(c, server_hostname="127.0.0.1")
                    self.assertTrue(read_line(c).startswith(greet), kind)
                    if i % 3 == 0:          # a client that just goes away
                        c.close()
                        continue
                    c.sendall(BYE[kind])
                    while read_line(c):
                        pass
                    c.close()
            # every session ends; the master keeps only its services
            services = {s["pid"] for s in inst.status()["services"]}
            wait_for(lambda: set(children(inst.master_pid)) == services, 20,
                     "sessions to end")
            log = inst.log()
            self.assertEqual(len(re.findall(r"event=connect", log)), n * len(GREETING))
