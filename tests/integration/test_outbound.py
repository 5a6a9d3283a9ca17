"""Outbound delivery (issue 14): two sealpost instances, A on 127.0.0.2 and
B on 127.0.0.3, and a dnsmasq serving their MX records.  A user of A
submits; A's queue hands the message to its mta, which finds B through
DNS and delivers over SMTP (STARTTLS); the message is read back over IMAP
on B.  A fast retry schedule from A's configuration makes retries, delay
warnings and expiry happen within seconds.

Also: a remote 4xx then success (B's mailbox over quota, then a bigger
one), a remote 5xx (a bounce in the sender's INBOX, from the null
sender), an unreachable MX (retries, a delay warning, then a bounce after
the shortened lifetime), kill -9 of the queue during delivery (delivered,
at most once duplicated), a hostile remote (T48: endless replies, a huge
line, garbage: a temporary failure and a living mta), and sealpostctl
queue hold | release | flush | delete.
"""

import email
import email.message
import email.policy
import email.utils
import os
import re
import signal
import smtplib
import socket
import ssl
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sealpost_test import DnsServer, Instance, wait_for  # noqa: E402
from smtp_remote import Remote, message  # noqa: E402

A_HOST, B_HOST = "127.0.0.2", "127.0.0.3"
DEAD_HOST, EVIL_HOST, SEVEN_HOST = "127.0.0.4", "127.0.0.5", "127.0.0.7"
INJECT_HOST = "127.0.0.8"


class Hostile(Remote):
    """A remote that misbehaves in turn on each connection (T48): an
    endless multi-line greeting, a greeting line of a megabyte without an
    end, and binary garbage.  It counts connections and bytes it read."""

    MODES = ("endless", "hugeline", "garbage")

    def __init__(self, host, port):
        super().__init__(host, port)
        self.connections = 0

    def serve(self, c):
        with self.lock:
            mode = self.MODES[self.connections % len(self.MODES)]
            self.connections += 1
        c.settimeout(30)
        try:
            if mode == "endless":
                line = b"220-" + b"x" * 200 + b"\r\n"
                for _ in range(100000):
                    c.sendall(line)
            elif mode == "hugeline":
                c.sendall(b"220 " + b"y" * (1 << 20))
                time.sleep(2)
            else:
                c.sendall(bytes(range(256)) * 64 + b"\r\n")
                time.sleep(2)
        except OSError:
            pass
        finally:
            c.close()


class SevenBit(Remote):
    """A plain old SMTP server (RFC 821 manners): EHLO offers SIZE only,
    no 8BITMIME, PIPELINING, STARTTLS or CHUNKING.  It keeps what it got:
    each transaction's MAIL line and its DATA, dot-unstuffed."""

    def __init__(self, host, port):
        super().__init__(host, port)
        self.got = []           # (MAIL line, data)
        self.delay = 0          # seconds before the reply to the dot
        self.open = 0           # connections open now, and at most
        self.most = 0

    def serve(self, c):
        f = c.makefile("rb")
        c.settimeout(30)
        mail = None
        with self.lock:
            self.open += 1
            self.most = max(self.most, self.open)
        try:
            c.sendall(b"220 seven.test ESMTP\r\n")
            for line in f:
                cmd = line.rstrip(b"\r\n").upper()
                if cmd.startswith(b"EHLO"):
                    c.sendall(b"250-seven.test\r\n250 SIZE 10000000\r\n")
                elif cmd.startswith(b"MAIL"):
                    mail = line.rstrip(b"\r\n")
                    c.sendall(b"250 ok\r\n")
                elif cmd.startswith(b"RCPT") or cmd.startswith(b"RSET"):
                    c.sendall(b"250 ok\r\n")
                elif cmd == b"DATA":
                    c.sendall(b"354 go on\r\n")
                    data = b""
                    for l in f:
                        if l == b".\r\n":
                            break
                        data += l[1:] if l.startswith(b".") else l
                    self.got.append((mail, data))
                    time.sleep(self.delay)
                    c.sendall(b"250 taken\r\n")
                elif cmd == b"QUIT":
                    c.sendall(b"221 bye\r\n")
                    break
                else:
                    c.sendall(b"502 no\r\n")
        except OSError:
            pass
        finally:
            with self.lock:
                self.open -= 1
            c.close()


class Injector(Remote):
    """A remote that answers STARTTLS with "220" and, in the same segment,
    a forged "250-injected / 250 PIPELINING" (T48, CVE-2021-38371's class):
    a client that kept those bytes would take them for the reply to its
    EHLO after the handshake and pipeline at once.  It records whether a
    command came before it answered that EHLO, and the message."""

    def __init__(self, host, port, cert, key):
        super().__init__(host, port)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.early = None
        self.data = None

    def serve(self, c):
        try:
            self.converse(c)
        except (OSError, ssl.SSLError):
            pass
        finally:
            c.close()

    @staticmethod
    def line(c):
        buf = b""
        while not buf.endswith(b"\n"):
            b = c.recv(1)
            if not b:
                raise OSError("closed")
            buf += b
        return buf

    def converse(self, c):
        c.settimeout(20)
        c.sendall(b"220 inject.test ESMTP\r\n")
        self.line(c)                                  # EHLO
        c.sendall(b"250-inject.test\r\n250 STARTTLS\r\n")
        self.line(c)                                  # STARTTLS
        c.sendall(b"220 go ahead\r\n250-injected\r\n250 PIPELINING\r\n")
        t = self.ctx.wrap_socket(c, server_side=True)
        self.line(t)                                  # EHLO again
        time.sleep(0.5)
        t.setblocking(False)
        try:
            self.early = len(t.recv(4096)) > 0
        except (ssl.SSLWantReadError, BlockingIOError):
            self.early = False
        t.setblocking(True)
        t.settimeout(20)
        t.sendall(b"250 inject.test\r\n")
        for reply in (b"250 ok\r\n", b"250 ok\r\n"):  # MAIL, RCPT
            self.line(t)
            t.sendall(reply)
        self.line(t)                                  # DATA
        t.sendall(b"354 go on\r\n")
        data = b""
        while True:
            l = self.line(t)
            if l == b".\r\n":
                break
            data += l
        self.data = data
        t.sendall(b"250 taken\r\n")
        self.line(t)
        t.sendall(b"221 bye\r\n")


class TestOutbound(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = Instance("out-b", host=B_HOST, extra_conf=[
            "hostname mx.b.test", "domain b.test",
            "instance-type test", "kdf-strength test"]).start()
        port = cls.b.port("smtp")
        cls.dns = DnsServer(records=[
            "mx-host=b.test,mx.b.test,10", "host-record=mx.b.test,%s" % B_HOST,
            "mx-host=dead.test,mx.dead.test,10", "host-record=mx.dead.test,%s" % DEAD_HOST,
            "mx-host=evil.test,mx.evil.test,10", "host-record=mx.evil.test,%s" % EVIL_HOST,
            "mx-host=nullmx.test,.,0",
            "mx-host=loop.test,mail.example.test,10",
            "host-record=mail.example.test,%s" % A_HOST,
            "mx-host=inject.test,mx.inject.test,10",
            "host-record=mx.inject.test,%s" % INJECT_HOST,
            "mx-host=seven.test,mx.seven.test,10", "host-record=mx.seven.test,%s" % SEVEN_HOST,
        ]).start()
        cls.evil = Hostile(EVIL_HOST, port)
        cls.evil.start()
        cls.seven = SevenBit(SEVEN_HOST, port)
        cls.seven.start()
        cls.inject = Injector(INJECT_HOST, port, os.path.join(cls.b.dir, "tls", "cert.pem"),
                              os.path.join(cls.b.dir, "tls", "key.pem"))
        cls.inject.start()
        cls.a = Instance("out-a", host=A_HOST, extra_conf=[
            "dns-resolver 127.0.0.1@%d" % cls.dns.port,
            "outbound-port %d" % port,
            "outbound-timeout 3s",
            "outbound-concurrency 2",
            "queue-first-retry 2s", "queue-retry-interval 3s",
            "queue-delay-warning 6s", "queue-lifetime 16s",
            "instance-type test", "kdf-strength test"]).start()
        # a second sender with outbound-rate 2: two messages a minute to a
        # domain, the others wait (no attempt counted)
        cls.a2 = Instance("out-a2", host="127.0.0.6", extra_conf=[
            "dns-resolver 127.0.0.1@%d" % cls.dns.port,
            "outbound-port %d" % port, "outbound-rate 2",
            "instance-type test", "kdf-strength test"]).start()
        cls.b.ctl("domain", "add", "b.test")
        for u in ("bob@b.test", "carol@b.test"):
            cls.b.add_user(u)
        cls.b.add_user("small@b.test", quota="6K")

    @classmethod
    def tearDownClass(cls):
        cls.evil.stop()
        cls.seven.stop()
        cls.inject.stop()
        cls.a2.finish()
        cls.a.stop()
        cls.b.finish()
        cls.dns.stop()
        # the queue's kill -9 leaves a "signal=9" line on purpose
        bad = [l for l in cls.a.bad_log_lines()
               if not re.search(r"service queue died pid=\d+ signal=9", l)]
        if not bad and not os.environ.get("SEALPOST_KEEP"):
            cls.a.cleanup()
        assert not bad, "\n".join(bad)

    # -- helpers ----------------------------------------------------------
    def submit(self, rcpts, msg, sender="demo@example.test", inst=None, mail_options=()):
        inst = inst or self.a
        with smtplib.SMTP(inst.host, inst.port("submission"), timeout=60) as s:
            s.starttls(context=inst.tls_context())
            s.login("demo@example.test", inst.demo_password)
            s.sendmail(sender, rcpts, msg, mail_options=list(mail_options))

    @staticmethod
    def subjects(inst, user, mailbox="INBOX"):
        m = inst.imaps(user)
        try:
            m.select(mailbox, readonly=True)
            _, data = m.search(None, "ALL")
            out = []
            for num in data[0].split():
                _, d = m.fetch(num, "(BODY.PEEK[])")
                out.append(email.message_from_bytes(d[0][1]))
            return out
        finally:
            m.logout()

    def wait_subject(self, inst, user, subject, timeout=30, count=1):
        def found():
            got = [x for x in self.subjects(inst, user) if subject in (x["Subject"] or "")]
            return got if len(got) >= count else None
        return wait_for(found, timeout, "%s in %s's INBOX" % (subject, user), interval=0.5)

    def queue_ids(self):
        out = self.a.ctl("queue", "list").stdout.decode()
        return re.findall(r"^([0-9a-f]{32}) ", out, re.M)

    def queue_show(self, qid):
        return self.a.ctl("queue", "show", qid).stdout.decode()

    def new_queue_id(self, before, rcpt):
        """The entry that appeared since before and is for rcpt (not a
        notification another test's message caused meanwhile)."""
        def new():
            for i in self.queue_ids():
                if i in before:
                    continue
                r = self.a.ctl("queue", "show", i, check=False)
                if r.returncode == 0 and ("<%s>" % rcpt) in r.stdout.decode():
                    return i
            return None
        return wait_for(new, 10, "a new queue entry for " + rcpt)

    def reports(self, tag, action):
        """The notifications in demo@example.test's INBOX on A about the
        message whose Subject holds tag, with a recipient of action."""
        return [m for m in self.subjects(self.a, "demo@example.test")
                if m.get_content_type() == "multipart/report"
                and tag in m.as_string()
                and any(f.get("Action") == action for f in self.report(m))]

    def wait_report(self, tag, action="failed", timeout=30):
        return wait_for(lambda: self.reports(tag, action), timeout,
                        "a %s report about %s" % (action, tag), interval=0.5)[0]

    @staticmethod
    def report(msg):
        """The message/delivery-status part's fields, per recipient."""
        for part in msg.walk():
            if part.get_content_type() == "message/delivery-status":
                blocks = part.get_payload()
                return [dict(b.items()) for b in blocks]
        raise AssertionError("no delivery-status part")

    # -- tests ------------------------------------------------------------
    def test_delivered_over_smtp_with_starttls(self):
        """Submitted on A, delivered by A's mta to B over STARTTLS, read
        back over IMAP on B; A's queue is left empty of it."""
        before = set(self.queue_ids())
        self.submit(["bob@b.test"], message("outbound-1", b"across\r\n.dot line\r\n"))
        got = self.wait_subject(self.b, "bob@b.test", "outbound-1")[0]
        self.assertIn("across\n.dot line", got.get_payload().replace("\r\n", "\n"))
        # B's Received line: from A, over TLS
        self.assertRegex(got.as_string(), r"(?s)Received: from .*mail\.example\.test.*with ESMTPS")
        self.a.wait_log(r"mta event=attempt id=\w+ domain=b\.test remote=mx\.b\.test "
                        r".* tls=1 checked=none\(opportunistic\) sent=1 deferred=0 failed=0")
        wait_for(lambda: not (set(self.queue_ids()) - before), 10, "the queue emptied")

    def test_remote_5xx_bounces_to_sender(self):
        """B refuses the recipient for good: the sender gets an RFC 3464
        report in their INBOX on A, from the null sender (never by SMTP),
        and a recipient B took in the same message is not reported."""
        self.submit(["nobody@b.test", "carol@b.test"], message("outbound-5xx"),
                    mail_options=["RET=FULL", "ENVID=out5xx"])
        self.wait_subject(self.b, "carol@b.test", "outbound-5xx")

        m = self.wait_report("outbound-5xx")
        self.assertEqual(m["Auto-Submitted"], "auto-replied")
        self.assertRegex(m["From"], r"MAILER-DAEMON@")
        fields = [f for f in self.report(m) if "Final-Recipient" in f]
        self.assertEqual(len(fields), 1)
        self.assertIn("nobody@b.test", fields[0]["Final-Recipient"])
        self.assertEqual(fields[0]["Action"], "failed")
        self.assertTrue(fields[0]["Status"].startswith("5."))
        self.assertIn("mx.b.test", fields[0].get("Remote-MTA", ""))
        self.assertRegex(fields[0]["Diagnostic-Code"], r"smtp; 550")
        # RET=FULL: the whole message comes back; ENVID is echoed
        self.assertIn("Original-Envelope-Id: out5xx", m.as_string())
        rfc822 = [p for p in m.walk() if p.get_content_type() == "message/rfc822"]
        self.assertEqual(len(rfc822), 1)
        self.assertIn("hello", rfc822[0].as_string())
        # the report went straight into the store, not through SMTP
        self.assertRegex(self.a.log(), r"queue event=delivered id=\w+ to=local")

    def test_null_mx_and_no_such_domain_fail_at_once(self):
        """A null MX (RFC 7505), a domain that does not exist and an MX
        that is our own host name are failures for good at the first
        attempt: 556 5.1.10, 550 5.1.2 and 554 5.4.6 (T49), in one report,
        no retry."""
        self.submit(["x@nullmx.test", "y@nowhere.test", "z@loop.test"],
                    message("outbound-nullmx", to="x@nullmx.test"))

        m = self.wait_report("outbound-nullmx")
        fields = {f["Final-Recipient"].split(";")[-1].strip(): f
                  for f in self.report(m) if "Final-Recipient" in f}
        self.assertEqual(fields["x@nullmx.test"]["Status"], "5.1.10")
        self.assertIn("null MX", fields["x@nullmx.test"]["Diagnostic-Code"])
        self.assertEqual(fields["y@nowhere.test"]["Status"], "5.1.2")
        # an MX that is our own name: a loop, not a delivery to ourselves
        self.assertEqual(fields["z@loop.test"]["Status"], "5.4.6")
        self.assertIn("loops back to myself", fields["z@loop.test"]["Diagnostic-Code"])
        self.assertTrue(all(f["Action"] == "failed" for f in fields.values()))

    def test_mail_loop_is_cut_by_the_hop_limit(self):
        """A message that already went through 100 hops (100 Received
        fields, and ours makes 101, over max-hops 100) is not sent: its
        sender gets a 5.4.6 failure report and B never sees it."""
        hops = b"".join(b"Received: from hop%d.test by hop%d.test; "
                        b"Fri, 27 Nov 2026 10:00:00 +0000\r\n" % (i, i + 1)
                        for i in range(100))
        self.submit(["bob@b.test"], hops + message("outbound-loop"))

        m = self.wait_report("outbound-loop")
        f = [f for f in self.report(m) if "Final-Recipient" in f][0]
        self.assertEqual(f["Status"], "5.4.6")
        self.assertIn("too many hops", f["Diagnostic-Code"])
        self.assertFalse([x for x in self.subjects(self.b, "bob@b.test")
                          if x["Subject"] == "outbound-loop"])

    def test_reload_applies_outbound_settings(self):
        """A reload with new outbound settings restarts the queue and the
        mta with them; one without leaves them running.  Mail queued
        before goes out after."""
        q, m = self.a.service("queue")["pid"], self.a.service("mta")["pid"]
        self.assertEqual(self.a.ctl("reload").returncode, 0)
        time.sleep(1)
        self.assertEqual((self.a.service("queue")["pid"], self.a.service("mta")["pid"]), (q, m))
        with open(self.a.conf) as f:
            conf = f.read()
        with open(self.a.conf, "w") as f:
            f.write(conf.replace("outbound-concurrency 2", "outbound-concurrency 3"))
        self.assertEqual(self.a.ctl("reload").returncode, 0)
        self.a.wait_log(r"reload: new outbound settings: restarting the queue and the mta")
        wait_for(lambda: all(s["ready"] and s["pid"] not in (q, m)
                             for s in self.a.status()["services"]
                             if s["name"] in ("queue", "mta")), 20, "a new queue and mta")
        self.assertIn("concurrency=3", open("/proc/%d/cmdline" % self.a.service("queue")["pid"])
                      .read().replace("\0", " "))
        self.submit(["bob@b.test"], message("outbound-reload"))
        self.wait_subject(self.b, "bob@b.test", "outbound-reload")

    def test_remote_4xx_then_success(self):
        """B answers 452 (the mailbox is over quota): A keeps the message
        and tries again; once the mailbox is larger, a flush delivers it."""
        # a message larger than the whole quota is refused for good (552):
        # fill most of a 6K mailbox first, so that the next one is "for now"
        self.b.deliver("small@b.test", [message("filler", (b"f" * 70 + b"\r\n") * 40,
                                               to="small@b.test")])
        before = set(self.queue_ids())
        self.submit(["small@b.test"], message("outbound-4xx", (b"x" * 70 + b"\r\n") * 40))
        qid = self.new_queue_id(before, "small@b.test")
        wait_for(lambda: "452 4.2.2" in self.queue_show(qid), 20, "the 452 kept")
        self.assertIn("waiting", self.queue_show(qid))
        self.b.ctl("user", "del", "small@b.test")
        self.b.add_user("small@b.test", quota="1M")
        self.assertEqual(self.a.ctl("queue", "flush", qid).returncode, 0)
        self.wait_subject(self.b, "small@b.test", "outbound-4xx", timeout=20)
        wait_for(lambda: qid not in self.queue_ids(), 10, "the entry removed")

    def test_unreachable_delay_warning_then_bounce(self):
        """Nothing listens at dead.test's MX: retries, one delay warning
        (after 6 s), then a failure report when the 16 s lifetime is over;
        a message held meanwhile expires too."""
        before = set(self.queue_ids())
        self.submit(["someone@dead.test"], message("outbound-dead", to="someone@dead.test"))
        qid = self.new_queue_id(before, "someone@dead.test")
        # from the null sender: given up at the end too, but nobody is told
        with smtplib.SMTP(A_HOST, self.a.port("submission"), timeout=60) as s:
            s.starttls(context=self.a.tls_context())
            s.login("demo@example.test", self.a.demo_password)
            s.sendmail("", ["null@dead.test"], message("outbound-nobody", to="null@dead.test"))
        nid = self.new_queue_id(before, "null@dead.test")
        # a held one is not tried, but it expires all the same
        self.submit(["held2@dead.test"], message("outbound-held2", to="held2@dead.test"))
        hid = self.new_queue_id(before, "held2@dead.test")
        self.a.ctl("queue", "hold", hid)

        self.wait_report("outbound-dead", "delayed")
        self.assertEqual(len(self.reports("outbound-dead", "delayed")), 1)
        self.assertIn(qid, self.queue_ids())         # still trying
        show = self.queue_show(qid)
        self.assertRegex(show, r"attempts:  [1-9]")
        self.assertIn("warned:", show)
        fail = self.wait_report("outbound-dead", "failed", timeout=40)
        fields = [f for f in self.report(fail) if "Final-Recipient" in f][0]
        self.assertEqual(fields["Status"], "4.4.7")
        self.assertIn("not delivered in time", fields["Diagnostic-Code"])
        wait_for(lambda: qid not in self.queue_ids(), 10, "the entry removed")
        self.assertEqual(len(self.reports("outbound-dead", "delayed")), 1)  # one only
        self.wait_report("outbound-held2", "failed", timeout=20)
        wait_for(lambda: hid not in self.queue_ids(), 10, "the held entry removed")
        wait_for(lambda: nid not in self.queue_ids(), 10, "the null sender's entry removed")
        self.assertRegex(self.a.log(), r"queue event=done id=%s sent=0 failed=1" % nid)
        self.assertNotRegex(self.a.log(), r"queue event=notify id=\w+ about=%s" % nid)
        self.assertFalse([m for m in self.subjects(self.a, "demo@example.test")
                          if "outbound-nobody" in m.as_string()])

    def test_hostile_remote_is_a_temporary_failure(self):
        """evil.test's MX sends an endless reply, a megabyte line, garbage:
        each attempt ends as a temporary failure in bounded time, the mta
        keeps running (same pid), its memory stays small."""
        mta = self.a.service("mta")
        before = set(self.queue_ids())
        self.submit(["x@evil.test"], message("outbound-evil", to="x@evil.test"))
        qid = self.new_queue_id(before, "x@evil.test")
        wait_for(lambda: self.evil.connections >= 3, 30, "three hostile connections")
        wait_for(lambda: re.search(r"attempts:  [2-9]", self.queue_show(qid)), 30,
                 "attempts counted")
        show = self.queue_show(qid)
        self.assertIn("waiting", show)
        self.assertRegex(show, r"mx\.evil\.test: (malformed reply|a reply line longer)")
        self.assertEqual(self.a.service("mta")["pid"], mta["pid"])
        with open("/proc/%d/status" % mta["pid"]) as f:
            rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        self.assertLess(rss, 200 * 1024)             # KiB, under ASan too
        self.assertEqual(self.a.ctl("queue", "delete", qid).returncode, 0)
        self.assertNotIn(qid, self.queue_ids())

    def test_starttls_response_injection_is_discarded(self):
        """What a remote sends after its 220 to STARTTLS, before the
        handshake, never counts as a reply inside TLS (T48): the client
        waits for the real answer to its EHLO, then sends the message."""
        self.submit(["x@inject.test"], message("outbound-inject", to="x@inject.test"))
        wait_for(lambda: self.inject.data is not None, 30, "the message over TLS")
        self.assertIs(self.inject.early, False)
        self.assertIn(b"outbound-inject", self.inject.data)
        self.a.wait_log(r"mta event=attempt id=\w+ domain=inject\.test .* tls=1 checked=none\(opportunistic\) sent=1")

    def test_hold_release_delete(self):
        """A held message is not tried; release puts it back; delete removes
        it without a report; bad ids are refused with a clear message."""
        before = set(self.queue_ids())
        self.submit(["held@dead.test"], message("outbound-held", to="held@dead.test"))
        qid = self.new_queue_id(before, "held@dead.test")
        self.assertEqual(self.a.ctl("queue", "hold", qid).returncode, 0)
        self.assertIn("held", self.a.ctl("queue", "list").stdout.decode())
        self.assertIn("next:      held", self.queue_show(qid))
        n = self.queue_show(qid)
        time.sleep(4)
        self.assertEqual(re.search(r"attempts:  (\d+)", self.queue_show(qid)).group(1),
                         re.search(r"attempts:  (\d+)", n).group(1))
        self.assertEqual(self.a.ctl("queue", "release", qid).returncode, 0)
        self.assertNotIn("next:      held", self.queue_show(qid))
        r = self.a.ctl("queue", "delete", qid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(qid, self.queue_ids())
        r = self.a.ctl("queue", "hold", "nothex", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"not a queue id", r.stderr)
        r = self.a.ctl("queue", "release", "0" * 32, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"no such message", r.stderr)

    def test_kill_queue_during_delivery(self):
        """kill -9 of the queue service while it delivers: every message
        arrives, none more than twice; the master restarts the queue."""
        n = 6
        pid = self.a.service("queue")["pid"]
        for i in range(n):
            self.submit(["bob@b.test"], message("outbound-kill-%d" % i))
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: self.a.service("queue").get("pid") not in (None, pid)
                 and self.a.service("queue").get("ready"), 20, "a new queue")
        for i in range(n):
            got = self.wait_subject(self.b, "bob@b.test", "outbound-kill-%d" % i, timeout=40)
            self.assertLessEqual(len(got), 2)
        time.sleep(3)
        counts = {}
        for m in self.subjects(self.b, "bob@b.test"):
            s = m["Subject"] or ""
            if s.startswith("outbound-kill-"):
                counts[s] = counts.get(s, 0) + 1
        self.assertEqual(len(counts), n)
        self.assertTrue(all(1 <= c <= 2 for c in counts.values()), counts)

    def test_8bit_to_a_7bit_server_is_converted(self):
        """An 8-bit message (UTF-8 text and a binary attachment) to a
        server without 8BITMIME: sent without BODY=8BITMIME, every byte
        7-bit, every line at most 998 octets, and it decodes to the same
        text and attachment (RFC 6152 3)."""
        text = "Grüße aus Köln: naïve café, 東京\r\n" * 3
        blob = bytes(range(256)) * 8
        msg = email.message.EmailMessage()
        msg["From"] = "demo@example.test"
        msg["To"] = "x@seven.test"
        msg["Subject"] = "outbound-8bit"
        msg["Date"] = email.utils.formatdate()
        msg["Message-ID"] = "<outbound-8bit@example.test>"
        msg.set_content(text, cte="8bit")
        msg.add_attachment(blob, maintype="application", subtype="octet-stream",
                           filename="b.bin")
        raw = msg.as_bytes(policy=email.policy.SMTP)
        self.submit(["x@seven.test"], raw, mail_options=["BODY=8BITMIME"])
        got = wait_for(lambda: [g for g in self.seven.got if b"outbound-8bit" in g[1]],
                       30, "the message at the 7-bit server")[0]
        mail, data = got
        self.assertNotIn(b"8BITMIME", mail.upper())
        self.assertTrue(all(b < 0x80 for b in data), "8-bit bytes on the wire")
        self.assertTrue(all(len(l) <= 1000 for l in data.split(b"\n")))
        back = email.message_from_bytes(data, policy=email.policy.default)
        parts = list(back.iter_parts())
        self.assertEqual(parts[0].get_content().replace("\r\n", "\n"),
                         text.replace("\r\n", "\n"))
        self.assertEqual(parts[1].get_content(), blob)

    def test_concurrency_per_domain(self):
        """outbound-concurrency 2: however many messages wait for one
        domain, at most two connections to it are open at once (idle ones
        included: the next message takes an idle one first)."""
        self.seven.delay = 0.5
        try:
            n = len(self.seven.got)
            for i in range(6):
                self.submit(["c%d@seven.test" % i], message("outbound-conc-%d" % i,
                                                           to="c%d@seven.test" % i))
            wait_for(lambda: len(self.seven.got) >= n + 6, 60, "six messages")
        finally:
            self.seven.delay = 0
        self.assertLessEqual(self.seven.most, 2)

    def test_rate_limit_per_domain(self):
        """outbound-rate 2: of four messages to b.test, two are sent at
        once; the other two wait for the next minute, never tried (a
        limit is not a failure), and can be deleted meanwhile."""
        for i in range(4):
            self.submit(["bob@b.test"], message("outbound-rate-%d" % i), inst=self.a2)
        wait_for(lambda: len([m for m in self.subjects(self.b, "bob@b.test")
                              if (m["Subject"] or "").startswith("outbound-rate-")]) >= 2,
                 30, "two messages through")
        time.sleep(3)
        got = [m for m in self.subjects(self.b, "bob@b.test")
               if (m["Subject"] or "").startswith("outbound-rate-")]
        self.assertEqual(len(got), 2)
        out = self.a2.ctl("queue", "list").stdout.decode()
        waiting = re.findall(r"^([0-9a-f]{32}) +\d+ \S+ \S+ +(\d+) ", out, re.M)
        self.assertEqual(len(waiting), 2, out)
        self.assertEqual({n for _, n in waiting}, {"0"})
        for qid, _ in waiting:
            self.a2.ctl("queue", "delete", qid)

    def test_zz_dkim_key_made_later(self):
        """A has no DKIM key, so its queue stops asking the signer
        (SIGNER_NO_KEYS); a key made and a reload, and the next message
        is signed."""
        self.submit(["bob@b.test"], message("outbound-nokey"))
        got = self.wait_subject(self.b, "bob@b.test", "outbound-nokey")[0]
        self.assertIsNone(got["DKIM-Signature"])
        self.a.ctl("dkim", "gen", "example.test", "--ed25519")
        mark = len(self.a.log())
        self.a.ctl("reload")
        wait_for(lambda: "service signer ready" in self.a.log()[mark:], 20,
                 "a new signer")
        self.submit(["bob@b.test"], message("outbound-key"))
        got = self.wait_subject(self.b, "bob@b.test", "outbound-key")[0]
        self.assertIn("d=example.test", got["DKIM-Signature"] or "")
        self.a.wait_log(r"signer event=signed domain=example\.test signatures=1")

    def test_one_connection_carries_several_messages(self):
        """Messages to one domain submitted together share connections:
        some attempt logs reused=1."""
        for i in range(4):
            self.submit(["carol@b.test"], message("outbound-reuse-%d" % i))
        for i in range(4):
            self.wait_subject(self.b, "carol@b.test", "outbound-reuse-%d" % i)
        self.assertRegex(self.a.log(), r"mta event=attempt id=\w+ domain=b\.test "
                                       r"remote=mx\.b\.test connects=0 reused=1")


if __name__ == "__main__":
    unittest.main()
