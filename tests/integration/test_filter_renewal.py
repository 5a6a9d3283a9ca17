"""The filter renewed under load (issue 11: "reloaded when the database
changes by starting a fresh filter process: new sessions use it, sessions
in flight finish with the old one, no mail is refused meanwhile").

Client threads send clean, distinct messages for the whole test (one
session held from start to end, sessions of a few transactions each,
one session per message) and EICAR every so often, while the main thread
renews the filter 4 * SEALPOST_TEST_SCALE times, alternating `sealpostctl
reload` and a new signature file in the instance's ClamAV database
folder, each time with a message of its own halfway through DATA.  Every
clean message gets 250 (no 4xx, no 5xx, no dropped connection) and is in
the recipient's INBOX exactly once; every virus gets 554 5.7.1, on old
filters and new; a session opened after a database renewal has the new
signature; every retired filter ends with status 0 once its sessions are
gone (the first one only after the session held from the start), and
one filter process is left."""

import os
import re
import smtplib
import threading
import time
import unittest
from collections import Counter

from sealpost_test import SCALE, Instance, wait_for

CONF = ["instance-type test", "kdf-strength test"]
RCPT = "renew@example.test"
SENDER = "a@other.test"
RENEWALS = 4 * SCALE
# the EICAR test string, as every antivirus knows it (not a virus)
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
VIRUS_REPLY = (554, b"5.7.1 Message refused: virus found (Sealpost.Test.EICAR.UNOFFICIAL)")
# what each kind of client does: (messages per session, 0 = until the end;
# pause between messages in seconds)
CLIENTS = {"held": (0, 0.1), "long": (8, 0.05), "short-1": (1, 0.05), "short-2": (1, 0.05)}
MAX_PER_CLIENT = 1000 * SCALE      # a bound, far above what a run sends
MAX_FAILURES = 5                   # per client: enough to see what went wrong
# lines that are not expected in this test's log (sanitizers and signals
# are bad_log_lines()); each is checked against OK_LINES first
SUSPECT = re.compile(r"(?i)warn|\berror\b|fail|fatal|refus|died|dropped|\blost\b|"
                     r"timeout|timed out|unavailable|could not|cannot|abort|too many|"
                     r"malformed|by signal|exited with|result=(?!accept|ok\b)|"
                     r"reason=(?!quit\b|logout\b)")
OK_LINES = re.compile(r"filter event=verdict result=reject id=\S+ size=\d+ antivirus=virus "
                      r"virus=Sealpost\.Test\.(?:EICAR|Renew\d+)\.UNOFFICIAL "
                      # the recipient has no OpenPGP key: its copy as it is
                      r"|pgp event=encrypt result=no-key size=\d+$")


def message(marker, body=b"nothing to see here"):
    """A clean message whose Message-ID is <marker@renew.test>."""
    return (b"From: a@other.test\r\nTo: renew@example.test\r\n"
            b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\n"
            b"Message-ID: <" + marker.encode() + b"@renew.test>\r\n"
            b"Subject: renewal " + marker.encode() + b"\r\n\r\n" + body + b"\r\n")


def outcome(exc):
    """What a failed transaction got, for the report."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "RCPT %r" % exc.recipients
    if isinstance(exc, smtplib.SMTPResponseException):
        return "%d %s" % (exc.smtp_code, exc.smtp_error.decode("ascii", "replace"))
    return "%s: %s" % (type(exc).__name__, exc)


class Client(threading.Thread):
    """Sends clean messages until stop is set: `per` messages a session
    (0: one session for the whole run), `pause` seconds between them.
    accepted: the markers that got 250; failures: (marker, what it got);
    sessions: (when it opened, [when each of its messages got 250])."""

    def __init__(self, inst, name, per, pause, stop):
        super().__init__(name=name, daemon=True)
        self.inst, self.per, self.pause, self.stop = inst, per, pause, stop
        self.accepted, self.failures, self.sessions = [], [], []

    def connect(self):
        s = smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30)
        try:
            s.ehlo("client.test")
        except (smtplib.SMTPException, OSError):
            s.close()
            raise
        self.sessions.append((time.monotonic(), []))
        return s

    def run(self):
        s, n_in = None, 0
        for i in range(MAX_PER_CLIENT):
            if self.stop.is_set() or len(self.failures) >= MAX_FAILURES:
                break
            marker = "%s-%d" % (self.name, i)
            try:
                if s is None:
                    s, n_in = self.connect(), 0
                s.sendmail(SENDER, [RCPT], message(marker))
                self.accepted.append(marker)
                self.sessions[-1][1].append(time.monotonic())
                n_in += 1
            except (smtplib.SMTPException, OSError) as e:
                self.failures.append((marker, outcome(e)))
                s = self.close(s)
                continue
            if self.per and n_in >= self.per:
                s = self.close(s)
            time.sleep(self.pause)
        self.close(s)

    @staticmethod
    def close(s):
        if s is not None:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                s.close()
        return None


class VirusClient(Client):
    """EICAR every `pause` seconds, four to a session (under the session's
    error limit), so both old sessions and new ones send it.  replies:
    (code, text) of each refusal after DATA; failures: an accepted virus
    or anything else."""

    def __init__(self, inst, stop):
        super().__init__(inst, "virus", 4, 0.3, stop)
        self.replies = []

    def run(self):
        s, n_in = None, 0
        for i in range(MAX_PER_CLIENT):
            if self.stop.is_set() or len(self.failures) >= MAX_FAILURES:
                break
            try:
                if s is None:
                    s, n_in = self.connect(), 0
                s.sendmail(SENDER, [RCPT], message("virus-%d" % i, EICAR))
                self.failures.append(("virus-%d" % i, "accepted"))
            except smtplib.SMTPDataError as e:
                self.replies.append((e.smtp_code, e.smtp_error))
            except (smtplib.SMTPException, OSError) as e:
                self.failures.append(("virus-%d" % i, outcome(e)))
                s = self.close(s)
                continue
            n_in += 1
            if n_in >= self.per:
                s = self.close(s)
            time.sleep(self.pause)
        self.close(s)


def filter_pids(master):
    """The master's children that run sealpost-filter."""
    try:
        with open("/proc/%d/task/%d/children" % (master, master)) as f:
            kids = [int(x) for x in f.read().split()]
    except OSError:
        return []
    out = []
    for pid in kids:
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "sealpost-filter":
                    out.append(pid)
        except OSError:
            pass                    # gone meanwhile
    return out


class FilterRenewal(unittest.TestCase):
    """No mail refused, lost or doubled and no virus accepted while the
    filter is renewed again and again under traffic."""

    def setUp(self):
        self.inst = Instance("renewal", extra_conf=CONF)
        self.addCleanup(self.inst.finish)
        self.inst.start()
        self.inst.wait_services_ready()
        self.inst.add_user(RCPT)
        with open(self.inst.conf) as f:
            self.db = re.search(r"(?m)^clamav-database (.*)$", f.read()).group(1)
        if os.path.dirname(os.path.abspath(self.db)) != self.inst.dir:
            self.skipTest("ClamAV's official databases in use (%s): this test adds "
                          "signatures to contrib/dev's test database" % self.db)

    def wait_after(self, mark, pattern, timeout=30):
        """The first match of pattern in the log past character mark."""
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.inst.log(), mark), timeout,
                        "log line matching %r" % pattern)

    def new_signature(self, n):
        """Sealpost.Test.RenewN in a file of its own, written as freshclam
        does (a temporary name, then a rename); returns its marker."""
        marker = b"SEALPOST-RENEW-SIGNATURE-%d-7c41e9" % n
        tmp = os.path.join(self.db, ".renew-%d.tmp" % n)
        with open(tmp, "w") as f:
            f.write("Sealpost.Test.Renew%d:0:*:%s\n" % (n, marker.hex()))
        os.rename(tmp, os.path.join(self.db, "sealpost-renew-%d.ndb" % n))
        return marker

    def open_half(self, marker):
        """A session with a message halfway through DATA."""
        s = smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30)
        s.ehlo("client.test")
        self.assertEqual(s.mail(SENDER)[0], 250)
        self.assertEqual(s.rcpt(RCPT)[0], 250)
        s.putcmd("data")
        self.assertEqual(s.getreply()[0], 354)
        msg = message(marker, b"first half\r\n" * 200 + b"second half\r\n" * 200)
        s.send(msg[:len(msg) // 2])
        return s, msg[len(msg) // 2:]

    def test_renewals_under_traffic(self):
        """Each renewal names the pid it retires and the one that takes
        over, which new sessions get (a new signature refuses at once);
        the message halfway through DATA, the session held from the start
        and every other client get 250 across it; EICAR gets 554 from
        every filter; the retired filters end with status 0 only after
        their sessions, one filter is left, nothing in the log looks
        wrong, and the INBOX holds each accepted message once."""
        inst = self.inst
        stop = threading.Event()
        clients = [Client(inst, name, per, pause, stop)
                   for name, (per, pause) in CLIENTS.items()]
        virus = VirusClient(inst, stop)
        for c in clients + [virus]:
            c.start()
        renewed = []            # (old pid, new pid, how, triggered, done)
        halfway = []            # markers of the messages held across a renewal
        try:
            wait_for(lambda: all(c.accepted for c in clients), 30, "every client's first 250")
            for i in range(RENEWALS):
                old = inst.service("filter")["pid"]
                s, rest = self.open_half("halfway-%d" % i)
                mark = len(inst.log())
                triggered = time.monotonic()
                if i % 2 == 0:
                    how = "reload"
                    inst.ctl("reload")
                else:
                    how = "database"
                    sig = self.new_signature(i)
                m = self.wait_after(mark, r"service filter renewed: pid=(\d+)[^\n]*(?=\n)")
                self.assertEqual(m.group(0), "service filter renewed: pid=%s serves new "
                                 "sessions, pid=%d finishes its own" % (m.group(1), old),
                                 "renewal %d (%s)" % (i, how))
                new = int(m.group(1))
                renewed.append((old, new, how, triggered, time.monotonic()))
                self.assertEqual(inst.service("filter")["pid"], new)
                # the message begun on the old filter ends on it
                s.send(rest + b"\r\n.\r\n")
                self.assertEqual(s.getreply()[0], 250, "halfway-%d" % i)
                halfway.append("halfway-%d" % i)
                s.quit()
                if how == "database":
                    # a new session: the new filter with the new signature
                    with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=30) as n:
                        n.ehlo("client.test")
                        with self.assertRaises(smtplib.SMTPDataError) as e:
                            n.sendmail(SENDER, [RCPT], message("sig-%d" % i, sig))
                        self.assertEqual((e.exception.smtp_code, e.exception.smtp_error),
                                         (554, b"5.7.1 Message refused: virus found "
                                               b"(Sealpost.Test.Renew%d.UNOFFICIAL)" % i))
                time.sleep(0.5)         # traffic on this filter before the next
            # the first filter still serves the session held from the start
            self.assertIn(renewed[0][0], filter_pids(inst.master_pid))
        finally:
            stop.set()
            for c in clients + [virus]:
                c.join(60)
        self.assertFalse([c.name for c in clients + [virus] if c.is_alive()],
                         "clients still running")

        # no clean message got anything but 250, no virus anything but 554
        failures = {c.name: c.failures for c in clients + [virus] if c.failures}
        self.assertEqual(failures, {})
        self.assertTrue(virus.replies)
        self.assertEqual(set(virus.replies), {VIRUS_REPLY})
        # every renewal happened under a session opened before it that
        # got 250 after it (besides the one held halfway through DATA)
        for old, new, how, triggered, done in renewed:
            self.assertTrue(any(opened < triggered and any(t > done for t in times)
                                for c in clients for opened, times in c.sessions),
                            "no session spanned the renewal to pid=%d" % new)

        # every retired filter ends with status 0, after its sessions
        for old, new, how, triggered, done in renewed:
            inst.wait_log(r"service filter pid=%d \(retired\) ended with status 0" % old,
                          timeout=30)
        current = inst.service("filter")["pid"]
        self.assertEqual(current, renewed[-1][1])
        wait_for(lambda: filter_pids(inst.master_pid) == [current], 10,
                 "one filter process left")

        # the log of all this (before the IMAP login that reads the mail)
        log = inst.log()
        self.assertEqual(len(re.findall(r"service filter renewed", log)), RENEWALS)
        bad = [l for l in log.splitlines() if SUSPECT.search(l) and not OK_LINES.search(l)]
        self.assertEqual(bad, [])

        # every message that got 250 is in the INBOX exactly once
        sent = Counter(halfway)
        for c in clients:
            sent.update(c.accepted)
        m = inst.imaps(RCPT)
        try:
            typ, data = m.select("INBOX", readonly=True)
            self.assertEqual(typ, "OK")
            # a login imports 500 at most, each command the next 500
            exists = int(data[0])
            for _ in range(len(sent) // 500 + 3):
                if exists >= len(sent):
                    break
                m.noop()
                exists = int(m.untagged_responses.get("EXISTS", [exists])[-1])
            typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            self.assertEqual(typ, "OK")
        finally:
            m.logout()
        got = Counter()
        for d in data:
            if isinstance(d, tuple):
                mo = re.search(rb"<([^@>]+)@renew\.test>", d[1])
                got[mo.group(1).decode() if mo else repr(d[1])] += 1
        self.assertEqual(sum(sent.values()), len(sent))       # each marker sent once
        self.assertEqual(got - sent, Counter(), "in the INBOX, never accepted (or twice)")
        self.assertEqual(sent - got, Counter(), "accepted, not in the INBOX")


if __name__ == "__main__":
    unittest.main()
