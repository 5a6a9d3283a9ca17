"""mutt, a real IMAP client (Debian's, built with GnuTLS and GNU SASL),
against the IMAP server over implicit TLS with the instance's certificate
verified (the CA file, the host name 127.0.0.1): run in batch inside a
pseudo-terminal and driven by pushed keystrokes, it reads a message
(shown in its pager and piped to a file: \\Seen), flags one (\\Flagged),
deletes one by subject pattern and expunges it with sync-mailbox, and
opens the mailbox again afterwards; in its folder browser it creates a
mailbox whose name has a space and, in a second session, deletes it.  On the wire that is AUTHENTICATE
PLAIN with SASL-IR, CAPABILITY, ENABLE, LIST, SELECT, FETCH of
HEADER.FIELDS, UID FETCH BODY.PEEK[], UID STORE +FLAGS.SILENT (pipelined),
EXPUNGE, LIST "" "%" RETURN (CHILDREN), CREATE, DELETE, CLOSE and
LOGOUT.  Every outcome is checked on the server through
a second, independent imaplib connection, and on mutt's exit status.  A CA
file that does not vouch for the certificate gets mutt's certificate
prompt and, rejected, no login.  Mail is delivered over SMTP; both
builds."""

import fcntl
import imaplib
import os
import pty
import re
import select
import shutil
import signal
import smtplib
import struct
import subprocess
import tempfile
import termios
import time
import unittest

from sealpost_test import BUILD, Instance, list_mailboxes

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
MUTT = "/usr/bin/mutt"                                  # Debian's, from contrib/dev
SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"      # not our instance's CA
SUBJECTS = ("mutt alpha", "mutt bravo", "mutt charlie")
MSG = (b"From: a@other.test\r\nTo: %s\r\n"
       b"Date: Thu, 26 Nov 2026 12:0%d:00 +0000\r\nMessage-ID: <%d.%s>\r\n"
       b"Subject: %s\r\n\r\nthe body of %s\r\n")


def message(user, i):
    s = SUBJECTS[i].encode()
    return MSG % (user.encode(), i, i, user.encode(), s, s)


class ImapMuttBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        assert os.access(MUTT, os.X_OK), "no %s: contrib/dev installs mutt" % MUTT
        cls.inst = Instance("imap-mutt", build=cls.build,
                            extra_conf=["instance-type test", "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.pwfile = os.path.join(cls.inst.dir, "demo-password")
        cls.pw = open(cls.pwfile).read().strip()
        # mutt's imap_pass goes in single quotes, which take no escapes
        assert re.fullmatch(r"[A-Za-z0-9_-]+", cls.pw), "password unfit for a muttrc"

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        bad = cls.inst.bad_log_lines()
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sp-mutt-", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    # -- the account ---------------------------------------------------------
    def fresh_user(self, name):
        """A new account with the three messages in its INBOX."""
        user = name + "@example.test"
        subprocess.run([os.path.join(self.build, "sealpostctl"), "-c", self.inst.conf,
                        "user", "add", user, "--password-file", self.pwfile],
                       check=True, capture_output=True)
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            for i in range(len(SUBJECTS)):
                s.sendmail("a@other.test", [user], message(user, i))
        return user

    def login(self, user):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                              ssl_context=self.inst.tls_context(), timeout=30)
        m.login(user, self.pw)
        return m

    def flags_by_subject(self, user):
        """{subject: set of flags} of INBOX, read with EXAMINE (changes
        nothing) on a connection of our own."""
        m = self.login(user)
        try:
            typ, _ = m.select("INBOX", readonly=True)
            self.assertEqual(typ, "OK")
            typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            self.assertEqual(typ, "OK")
            out = {}
            for d in data:
                if not isinstance(d, tuple):
                    continue
                flags = re.search(rb"FLAGS \(([^)]*)\)", d[0]).group(1).decode().split()
                subj = re.match(rb"Subject: (.*)\r\n", d[1]).group(1).decode()
                out[subj] = set(flags) - {"\\Recent"}     # the session's
            return out
        finally:
            m.logout()

    # -- mutt ------------------------------------------------------------------
    def muttrc(self, user, cafile, extra=()):
        port = self.inst.port("imaps")
        folder = "imaps://%s@127.0.0.1:%d/" % (user.replace("@", "%40"), port)
        lines = [
            "set imap_user='%s'" % user,
            "set imap_pass='%s'" % self.pw,
            "set folder='%s'" % folder,
            "set spoolfile='%sINBOX'" % folder,
            # certificates: the given CA file only, verified for real
            "set ssl_ca_certificates_file='%s'" % cafile,
            "set certificate_file='%s/certificates'" % self.tmp,
            "set ssl_force_tls=yes",
            "set ssl_verify_host=yes",
            "set ssl_verify_dates=yes",
            # nothing cached: every answer comes from the server
            "unset header_cache",
            "unset message_cachedir",
            "set mbox_type=Maildir",
            "set record=''",
            "set postponed='%s/postponed'" % self.tmp,
            "set move=no",
            "set confirmappend=no",
            "set confirmcreate=no",
            "set delete=yes",
            "set quit=yes",
            "set wait_key=no",
            "set beep=no",
            "set sort=mailbox-order",
            "set mark_old=no",
            "set imap_passive=yes",
            "set imap_check_subscribed=no",
            "set connect_timeout=15",
            "set imap_poll_timeout=15",
            "set charset=utf-8",
            "set sleep_time=0",
        ] + list(extra)
        path = os.path.join(self.tmp, "muttrc")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def mutt(self, user, keys=None, cafile=None, timeout=60, extra=()):
        """Run mutt -n -F MUTTRC on user's INBOX in a pseudo-terminal (80x24,
        TERM=vt100), keys pushed as one macro.  Should it ask about the
        certificate, we type "r" (reject) at once.  Returns (exit status,
        everything mutt wrote); killed by its pid after timeout seconds."""
        rc = self.muttrc(user, cafile or self.inst.cafile, extra)
        argv = [MUTT, "-n", "-F", rc, "-d", "2", "-f", "=INBOX"]
        if keys:
            argv += ["-e", 'push "%s"' % keys]
        env = {"PATH": "/usr/bin:/bin", "HOME": self.tmp, "TERM": "vt100",
               "LANG": "C.UTF-8", "LINES": "24", "COLUMNS": "80",
               "TMPDIR": self.tmp, "SHELL": "/bin/sh"}
        pid, fd = pty.fork()
        if pid == 0:                                    # the child: mutt
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
                os.chdir(self.tmp)
                os.execve(MUTT, argv, env)
            finally:
                os._exit(127)
        out = bytearray()
        rejected = False
        status = None
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    status = -1
                    self.fail("mutt still running after %ds, killed\n%s"
                              % (timeout, self.why(out)))
                r, _, _ = select.select([fd], [], [], min(left, 0.2))
                if r:
                    try:
                        data = os.read(fd, 65536)
                    except OSError:                     # EIO: the slave is closed
                        data = b""
                    if not data:
                        break
                    out += data
                    if not rejected and re.search(rb"\(r\)eject", out):
                        os.write(fd, b"r")
                        rejected = True
                elif status is None:
                    done, st = os.waitpid(pid, os.WNOHANG)
                    if done:
                        status = st
                else:
                    break                               # exited, and all read
            if status is None:
                _, status = os.waitpid(pid, 0)
        finally:
            os.close(fd)
            if status is None:                          # an exception on the way
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except OSError:
                    pass
        return os.waitstatus_to_exitcode(status), bytes(out)

    def assertMuttOk(self, result):
        """mutt exited 0 and trusted the certificate without asking: had
        it asked, the pushed keys would have answered its prompt."""
        code, out = result
        why = self.why(out)
        self.assertEqual(code, 0, "mutt exited %s\n%s" % (code, why))
        self.assertFalse(asked_about_certificate(out), why)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "certificates")), why)

    def why(self, out):
        """For a failure: mutt's screen, the end of its debug log (the
        IMAP dialogue, -d 2) and of the instance's log."""
        try:
            with open(os.path.join(self.tmp, ".muttdebug0"), errors="replace") as f:
                debug = re.sub(r"(AUTHENTICATE \S+) \S+", r"\1 (hidden)",
                               "".join(f.readlines()[-80:]))
        except OSError:
            debug = "(none)"
        return ("mutt's screen:\n%s\nmutt's debug log:\n%s\nthe instance's log:\n%s"
                % (screen(out), debug, self.inst.log()[-3000:]))

    # -- the tests ---------------------------------------------------------------
    def test_read_and_flag(self):
        """mutt shows "mutt alpha" in its pager and pipes it to a file
        (all of it, as delivered: \\Seen on the server afterwards), flags
        "mutt charlie" (\\Flagged, still unseen); "mutt bravo" untouched."""
        user = self.fresh_user("reader")
        piped = os.path.join(self.tmp, "piped")
        keys = ("<search>~s alpha<enter><display-message><exit>"
                "<pipe-message>cat > %s<enter>"
                "<search>~s charlie<enter><flag-message>"
                "<sync-mailbox><quit>" % piped)
        self.assertMuttOk(self.mutt(user, keys))
        with open(piped, "rb") as f:
            got = f.read().replace(b"\r\n", b"\n")
        self.assertTrue(got.startswith(b"Received: from client.test"), got[:200])
        self.assertTrue(got.rstrip(b"\n").endswith(
            message(user, 0).replace(b"\r\n", b"\n").rstrip(b"\n")), got[-300:])
        flags = self.flags_by_subject(user)
        self.assertEqual(flags, {"mutt alpha": {"\\Seen"},
                                 "mutt bravo": set(),
                                 "mutt charlie": {"\\Flagged"}})

    def test_read_compressed(self):
        """With imap_deflate, mutt turns on COMPRESS=DEFLATE (RFC 4978)
        and reads and flags through it as without."""
        user = self.fresh_user("deflate")
        piped = os.path.join(self.tmp, "piped-deflate")
        keys = ("<search>~s bravo<enter><display-message><exit>"
                "<pipe-message>cat > %s<enter>"
                "<search>~s alpha<enter><flag-message>"
                "<sync-mailbox><quit>" % piped)
        self.assertMuttOk(self.mutt(user, keys, extra=["set imap_deflate=yes"]))
        self.inst.wait_log(r"imap-mail event=compress account=\d+")
        with open(piped, "rb") as f:
            got = f.read().replace(b"\r\n", b"\n")
        self.assertTrue(got.rstrip(b"\n").endswith(
            message(user, 1).replace(b"\r\n", b"\n").rstrip(b"\n")), got[-300:])
        self.assertEqual(self.flags_by_subject(user),
                         {"mutt alpha": {"\\Flagged"}, "mutt bravo": {"\\Seen"},
                          "mutt charlie": set()})

    def test_delete_and_reopen(self):
        """mutt deletes "mutt bravo" by pattern and expunges it with
        sync-mailbox: the server's INBOX has the other two, unchanged;
        a second mutt session opens it and pipes both of them."""
        user = self.fresh_user("deleter")
        self.assertMuttOk(self.mutt(user, "<delete-pattern>~s bravo<enter>"
                                          "<sync-mailbox><quit>"))
        m = self.login(user)
        typ, data = m.select("INBOX", readonly=True)
        self.assertEqual((typ, data), ("OK", [b"2"]))
        typ, data = m.fetch("1:*", "(UID BODY.PEEK[])")
        bodies = [d[1] for d in data if isinstance(d, tuple)]
        m.logout()
        # the import does not keep delivery order: match by content
        self.assertEqual(len(bodies), 2)
        self.assertEqual(sorted(i for i in range(3) for b in bodies
                                if b.endswith(message(user, i))), [0, 2])
        self.assertEqual(self.flags_by_subject(user),
                         {"mutt alpha": set(), "mutt charlie": set()})
        # mutt again, on the mailbox it changed: both, in order, nothing else
        piped = os.path.join(self.tmp, "all")
        self.assertMuttOk(self.mutt(user, "<tag-pattern>~A<enter><tag-prefix>"
                                          "<pipe-message>cat >> %s<enter><quit>" % piped))
        with open(piped, "rb") as f:
            got = f.read()
        self.assertEqual(re.findall(rb"(?m)^Subject: (.*?)\r?$", got),
                         [b"mutt alpha", b"mutt charlie"])

    def mailboxes(self, user):
        """{name: attributes} of LIST "" "*" on a connection of our own."""
        m = self.login(user)
        try:
            return list_mailboxes(m, lower=True)
        finally:
            m.logout()

    def debug_log(self):
        """mutt's debug log (-d 2) of its last session: its IMAP dialogue
        and its messages (the batch screen does not always show them)."""
        with open(os.path.join(self.tmp, ".muttdebug0"), errors="replace") as f:
            return f.read()

    def test_create_and_delete_mailbox(self):
        """In its folder browser (<change-folder> then "?"), mutt creates a
        mailbox with <create-mailbox> (CREATE; a name with a space,
        typed with <quote-char>, so quoted): LIST shows it, empty and subscribed; a second session
        deletes it with <delete-mailbox> and "y" to its question
        (DELETE): LIST no longer shows it, the rest is untouched."""
        user = self.fresh_user("folders")
        before = self.mailboxes(user)
        self.assertNotIn("Mutt Made", before)
        res = self.mutt(user, "<change-folder>?<create-mailbox>Mutt<quote-char> Made<enter>"
                              "<exit><exit><quit>")
        self.assertMuttOk(res)
        after = self.mailboxes(user)
        why = "%s\n%s" % (after, self.why(res[1]))
        self.assertIn("Mutt Made", after, why)
        self.assertIn("\\hasnochildren", after["Mutt Made"], why)
        self.assertEqual({k: v for k, v in after.items() if k != "Mutt Made"}, before, why)
        self.assertRegex(self.debug_log(), r'> a\d+ CREATE "Mutt Made"\n.*< a\d+ OK .*\n'
                                           r'.*Mailbox created\.', why)
        m = self.login(user)
        try:
            typ, data = m.select('"Mutt Made"', readonly=True)
            self.assertEqual((typ, data), ("OK", [b"0"]))
            typ, data = m.lsub('""', '"Mutt Made"')
            self.assertEqual(typ, "OK", data)
            self.assertEqual(len([d for d in data if d]), 1, data)
        finally:
            m.logout()

        res = self.mutt(user, "<change-folder>?<search>Mutt Made<enter>"
                              "<delete-mailbox>y<exit><exit><quit>")
        self.assertMuttOk(res)
        gone = self.mailboxes(user)
        why = "%s\n%s" % (gone, self.why(res[1]))
        self.assertEqual(gone, before, why)
        self.assertRegex(self.debug_log(), r'> a\d+ DELETE "Mutt Made"\n.*< a\d+ OK .*\n'
                                           r'.*Mailbox deleted\.', why)
        # INBOX as it was: the three messages, unread
        self.assertEqual(self.flags_by_subject(user), {s: set() for s in SUBJECTS})

    def test_untrusted_certificate(self):
        """With a CA file that does not hold the instance's certificate
        (the system's), mutt does not trust it and asks; rejected, it
        never logs in: no login in the instance's log, INBOX untouched."""
        user = self.fresh_user("wary")
        logins = self.inst.log().count("imap-login event=login ")
        code, out = self.mutt(user, cafile=SYSTEM_CAS, timeout=30)
        self.assertTrue(asked_about_certificate(out), self.why(out))
        self.assertEqual(self.inst.log().count("imap-login event=login "), logins,
                         self.inst.log()[-2000:])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "certificates")))
        self.assertEqual(self.flags_by_subject(user),
                         {s: set() for s in SUBJECTS})


def asked_about_certificate(out):
    """Whether mutt showed its certificate prompt, whatever the spacing
    curses drew it with."""
    return "SSLCertificatecheck" in re.sub(r"\s+", "", screen(out))


def screen(out):
    """mutt's output with the terminal's escape sequences taken out."""
    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]", b" ",
                  bytes(out))
    return text.decode("utf-8", "replace")


class ImapMutt(ImapMuttBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class ImapMuttPlainBuild(ImapMuttBase, unittest.TestCase):
    build = PLAIN or BUILD
