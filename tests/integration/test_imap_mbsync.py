"""mbsync (Debian's isync) as a real IMAP client (issue 7: "mbsync
syncing a mailbox down and up again unchanged").  Ten varied messages
(plain, multipart with a base64 binary attachment, 8-bit UTF-8,
quoted-printable, a message/rfc822 attachment, nested multiparts, long
lines, a dot-stuffed line, an empty body) are delivered over SMTP and
some of them flagged over imaplib; mbsync, over implicit TLS with the
instance's certificate verified (the CA file alone, no system CAs, host
name "localhost": mbsync 1.4 matches a host only against a certificate's
DNS names, never its IP addresses), password from a 0600 file through
PassCmd, syncs INBOX and Archive both ways with a Maildir.

- down: the Maildir holds exactly the messages on the server, byte for
  byte but for the server's CRLF as LF (what a Maildir stores) and the
  one "X-TUID: <12 characters>" line that mbsync adds as the last header
  line of every message it copies, either way; \\Seen, \\Flagged,
  \\Answered and \\Draft as S, F, R and D;
- up: a message marked seen and flagged by renaming, a flag taken away,
  a file deleted, a file moved from INBOX to Archive and a new file in
  new/ reach the server (UID STORE +/-FLAGS.SILENT, \\Deleted and CLOSE,
  APPEND with LITERAL+ and APPENDUID), and every message not touched
  keeps its UID, its bytes and its flags; a run with nothing to do
  changes nothing; mbsync never tries CREATE (both folders exist);
- round trip: a second, empty Maildir synced down equals the first;
- the server's changes (STORE from another client, a delivery, an
  expunge, a MOVE to Archive) come down with a third run;
- folders (issue 8), Patterns * with Create Both and SubFolders
  Verbatim: a Maildir tree (Projects/2026/Q1, Projects/Notes) goes up
  with CREATE (the server adds the parents Projects and Projects/2026,
  \\HasChildren) and APPEND, byte for byte; a tree made on the server
  (CREATE Lists/imap, APPEND) comes down, parents included; a third run
  does nothing and changes nothing on either side;
- with a CA file that does not vouch for the certificate, mbsync does
  not log in.

Everything is checked on the server through imaplib connections of our
own and in the Maildir's files, and on mbsync's exit status; a failure
shows mbsync's output (its IMAP dialogue, -D n) and the instance's log.
Both builds."""

import base64
import imaplib
import os
import random
import re
import shutil
import smtplib
import subprocess
import tempfile
import unittest

from sealpost_test import BUILD, Instance, list_mailboxes

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
MBSYNC = "/usr/bin/mbsync"                              # Debian's isync, from contrib/dev
SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"      # not our instance's CA
FOLDERS = ("INBOX", "Archive")
# IMAP system flags and their maildir letters (the maildir spec, mbsync's map)
FLAG_LETTER = {"\\Draft": "D", "\\Flagged": "F", "\\Answered": "R", "\\Seen": "S"}
LETTER_FLAG = {v: k for k, v in FLAG_LETTER.items()}


# -- the messages --------------------------------------------------------------
def b64(data, width=76):
    s = base64.b64encode(data)
    return b"\r\n".join(s[i:i + width] for i in range(0, len(s), width))


def head(user, n, subject, extra=b""):
    return (b"From: Sender %d <sender%d@other.test>\r\nTo: %s\r\n"
            b"Date: Thu, 26 Nov 2026 1%d:00:00 +0000\r\n"
            b"Message-ID: <mbsync-%d.%s>\r\nSubject: %s\r\n%s"
            % (n, n, user.encode(), n % 10, n, user.encode(), subject, extra))


def messages(user):
    """Ten messages, each different in kind: (subject, bytes, 8-bit?)."""
    rnd = random.Random(7)
    binary = bytes(range(256)) + bytes(rnd.randrange(256) for _ in range(3000))
    out = []

    def add(subject, extra, body, eight=False):
        out.append((subject.decode(), head(user, len(out), subject, extra) + b"\r\n" + body,
                    eight))

    add(b"plain text", b"", b"Hello,\r\njust some plain text.\r\n\r\n-- \r\nsig\r\n")
    add(b"with attachment", b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; '
        b'boundary="b1"\r\n',
        b"This is a multi-part message in MIME format.\r\n--b1\r\n"
        b"Content-Type: text/plain; charset=us-ascii\r\n\r\nsee the attachment\r\n"
        b"--b1\r\nContent-Type: application/octet-stream; name=\"blob.bin\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=\"blob.bin\"\r\n\r\n"
        + b64(binary) + b"\r\n--b1--\r\n")
    add(b"=?UTF-8?B?w6lsw6h2ZSDDoCBNw7xsbGVy?=", b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
        "Grüße aus Köln, ça va? Ἀθῆναι, 東京, 🙂\r\nzweite Zeile\r\n".encode(),
        eight=True)
    add(b"quoted-printable", b"MIME-Version: 1.0\r\nContent-Type: text/plain; "
        b"charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n",
        b"caf=E9 cr=E8me br=FBl=E9e, a soft=\r\n line break, and =3D signs\r\n")
    inner = (b"From: Inner <inner@other.test>\r\nTo: x@other.test\r\n"
             b"Date: Wed, 25 Nov 2026 08:00:00 +0100\r\nMessage-ID: <inner@other.test>\r\n"
             b"Subject: the forwarded one\r\n\r\ninner body\r\n")
    add(b"forwarded message", b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; '
        b'boundary="fw"\r\n',
        b"--fw\r\nContent-Type: text/plain\r\n\r\nforwarding this\r\n"
        b"--fw\r\nContent-Type: message/rfc822\r\n"
        b"Content-Disposition: attachment\r\n\r\n" + inner + b"--fw--\r\n")
    add(b"alternative", b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; '
        b'boundary="alt"\r\n',
        b"--alt\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nplain version\r\n"
        b"--alt\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n"
        b"<html><body><p>html <b>version</b></p></body></html>\r\n--alt--\r\n")
    add(b"nested multipart", b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; '
        b'boundary="outer"\r\n',
        b"--outer\r\nContent-Type: multipart/related; boundary=\"inner\"\r\n\r\n"
        b"--inner\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:p1\">\r\n"
        b"--inner\r\nContent-Type: image/png\r\nContent-ID: <p1>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(binary[:600]) +
        b"\r\n--inner--\r\n--outer\r\nContent-Type: text/plain; name=\"notes.txt\"\r\n"
        b"Content-Disposition: attachment; filename=\"notes.txt\"\r\n\r\nnotes\r\n"
        b"--outer--\r\n")
    add(b"long lines", b"X-Folded: one\r\n\ttwo\r\n  three\r\n",
        b"x" * 990 + b"\r\n" + b"y " * 400 + b"\r\n" + b"\t tabs and trailing spaces  \r\n")
    add(b"dots and From", b"",
        b".a line starting with a dot\r\n..two dots\r\nFrom the start of a line\r\n"
        b">From quoted\r\n.\r\n")
    add(b"empty body", b"", b"")
    return out


class ImapMbsyncBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        assert os.access(MBSYNC, os.X_OK), "no %s: contrib/dev installs isync" % MBSYNC
        cls.inst = Instance("imap-mbsync", build=cls.build,
                            extra_conf=["instance-type test", "kdf-strength test"]).start()
        cls.inst.wait_services_ready()
        cls.pwfile = os.path.join(cls.inst.dir, "demo-password")
        with open(cls.pwfile) as f:
            cls.pw = f.read().strip()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        bad = cls.inst.bad_log_lines()
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sp-mbsync-", dir="/tmp")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        os.mkdir(os.path.join(self.tmp, "home"), 0o700)
        # the password for PassCmd, readable by us only: not in the mbsyncrc
        self.passfile = os.path.join(self.tmp, "home", "password")
        fd = os.open(self.passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, self.pw.encode() + b"\n")
        os.close(fd)
        self.outputs = []

    # -- the account and the server's side ------------------------------------
    def fresh_user(self, name):
        """A new account with the ten messages in its INBOX."""
        user = name + "@example.test"
        subprocess.run([os.path.join(self.build, "sealpostctl"), "-c", self.inst.conf,
                        "user", "add", user, "--password-file", self.pwfile],
                       check=True, capture_output=True)
        self.msgs = messages(user)
        self.deliver(user, self.msgs)
        return user

    def deliver(self, user, msgs):
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            for _, data, eight in msgs:
                self.assertEqual(s.sendmail("sender@other.test", [user], data,
                                            ["BODY=8BITMIME"] if eight else []), {})

    def login(self, user):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.inst.port("imaps"),
                              ssl_context=self.inst.tls_context(), timeout=30)
        m.login(user, self.pw)
        return m

    def server(self, user, folder):
        """{uid: (frozenset of flags, the whole message)} of a folder, read
        with EXAMINE and BODY.PEEK[] (changes nothing) on a connection
        of our own."""
        m = self.login(user)
        try:
            typ, data = m.select(folder, readonly=True)
            self.assertEqual(typ, "OK", data)
            if int(data[0]) == 0:
                return {}
            typ, data = m.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            self.assertEqual(typ, "OK", data)
            out = {}
            for i, d in enumerate(data):
                if not isinstance(d, tuple):
                    continue
                # FLAGS may come before or after the literal
                rest = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b""
                meta = d[0] + b" " + rest
                uid = int(re.search(rb"UID (\d+)", meta).group(1))
                flags = re.search(rb"FLAGS \(([^)]*)\)", meta).group(1).decode().split()
                # \Recent is this session's, not the message's
                out[uid] = (frozenset(flags) - {"\\Recent"}, d[1])
            return out
        finally:
            m.logout()

    def store(self, user, folder, uid, op, flags):
        m = self.login(user)
        try:
            self.assertEqual(m.select(folder)[0], "OK")
            typ, data = m.uid("STORE", str(uid), op, "(%s)" % " ".join(flags))
            self.assertEqual(typ, "OK", data)
        finally:
            m.logout()

    # -- mbsync and its Maildir ----------------------------------------------------
    def mbsyncrc(self, user, maildir, cafile=None, name="sp", patterns=FOLDERS):
        """An mbsyncrc for user syncing the folders that match patterns
        (INBOX and Archive unless told) with maildir, SubFolders Verbatim
        (the server's hierarchy delimiter "/" as directories), Create
        Both; its path."""
        os.makedirs(maildir, exist_ok=True)
        lines = [
            "IMAPAccount %s-account" % name,
            # localhost, not 127.0.0.1: mbsync 1.4 matches the host only
            # against the certificate's DNS names and CN, never an IP
            # address ("certificate owner does not match hostname")
            "Host localhost",
            "Port %d" % self.inst.port("imaps"),
            "User %s" % user,
            'PassCmd "cat %s"' % self.passfile,
            "SSLType IMAPS",
            # the given CA file only, verified for real
            "CertificateFile %s" % (cafile or self.inst.cafile),
            "SystemCertificates no",
            "Timeout 20",
            "",
            "IMAPStore %s-far" % name,
            "Account %s-account" % name,
            "",
            "MaildirStore %s-near" % name,
            "Path %s/" % maildir,
            "Inbox %s/INBOX" % maildir,
            "SubFolders Verbatim",
            "",
            "Channel %s" % name,
            "Far :%s-far:" % name,
            "Near :%s-near:" % name,
            "Patterns %s" % " ".join(patterns),
            "Sync All",
            "Create Both",
            "Expunge Both",
            "SyncState *",
            "",
        ]
        path = os.path.join(self.tmp, "mbsyncrc-%s-%d" % (name, len(self.outputs)))
        with open(path, "w") as f:
            f.write("\n".join(lines))
        return path

    def mbsync(self, rc, timeout=60):
        """mbsync -c RC -a with its IMAP dialogue (-D n) on its output;
        (exit status, output).  Killed by its pid after timeout seconds."""
        env = {"PATH": "/usr/bin:/bin", "HOME": os.path.join(self.tmp, "home"),
               "LANG": "C.UTF-8", "TMPDIR": self.tmp}
        p = subprocess.Popen([MBSYNC, "-c", rc, "-V", "-Dn", "-a"], env=env,
                             cwd=self.tmp, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            self.outputs.append(out)
            self.fail("mbsync still running after %ds, killed\n%s" % (timeout, self.why()))
        self.outputs.append(out)
        return p.returncode, out

    def assertSynced(self, rc, create=False):
        """mbsync ran, exited 0 and complained about nothing; unless
        create, it never tried to create a folder on the server."""
        code, out = self.mbsync(rc)
        self.assertEqual(code, 0, "mbsync exited %s\n%s" % (code, self.why()))
        self.assertNotRegex(out, rb"(?m)^.*\b(Error|Warning|IMAP error)\b", self.why())
        if not create:
            self.assertNotRegex(out, rb"(?m)^.*>>> \d+ CREATE ", self.why())
        self.assertNotRegex(out, rb"(?m)^\d+ (NO|BAD) ", self.why())
        return out

    def why(self):
        """For a failure: mbsync's last output and the instance's log."""
        out = self.outputs[-1].decode("utf-8", "replace") if self.outputs else "(none)"
        if len(out) > 12000:
            out = out[:2000] + "\n[...]\n" + out[-10000:]
        return ("mbsync's output (run %d):\n%s\nthe instance's log:\n%s"
                % (len(self.outputs), out, self.inst.log()[-4000:]))

    def maildir(self, maildir, folder):
        """{file name: (frozenset of IMAP flags, content)} of a folder of
        the Maildir, cur/ and new/ (mbsync's own files left out)."""
        out = {}
        for sub in ("cur", "new"):
            d = os.path.join(maildir, folder, sub)
            for name in sorted(os.listdir(d)):
                info = name.split(":2,", 1)[1] if ":2," in name else ""
                # a letter we do not expect (T, a keyword) shows as itself
                flags = frozenset(LETTER_FLAG.get(c, c) for c in info)
                with open(os.path.join(d, name), "rb") as f:
                    out[os.path.join(sub, name)] = (flags, f.read())
        return out

    def assertSame(self, server, local, what):
        """The server's folder and the Maildir's hold the same messages:
        the same content (CRLF on the server, LF in the Maildir; mbsync's
        X-TUID line aside, on either side), each once, with the same
        flags."""
        want = sorted((sorted(f), plain(b)) for f, b in server.values())
        got = sorted((sorted(f), plain(b)) for f, b in local.values())
        if want != got:
            self.fail("%s: server and Maildir differ\nonly on the server: %s\n"
                      "only in the Maildir: %s\n%s"
                      % (what, [(f, b[:300]) for f, b in want if (f, b) not in got],
                         [(f, b[:300]) for f, b in got if (f, b) not in want], self.why()))

    def assertInSync(self, user, maildir, what):
        for folder in FOLDERS:
            self.assertSame(self.server(user, folder), self.maildir(maildir, folder),
                            "%s, %s" % (what, folder))

    # -- the tests ---------------------------------------------------------------
    def test_down_up_round_trip(self):
        """Down to an empty Maildir, local changes up, a second Maildir
        down equal to the first, the server's changes down: checked on
        both sides after each mbsync run."""
        user = self.fresh_user("sync")
        inbox = self.server(user, "INBOX")
        self.assertEqual(len(inbox), len(self.msgs))
        # every message as delivered, once, our Received: line first;
        # uids[i] is message i's.  (Not necessarily in delivery order: two
        # deliveries in one tick of the file system's clock get UIDs in
        # the random order of their blob names.)
        uids = []
        for _, data, _ in self.msgs:
            have = [u for u, (_, b) in inbox.items() if b.endswith(data)]
            self.assertEqual(len(have), 1, data[:300])
            self.assertTrue(inbox[have[0]][1].startswith(b"Received: "), inbox[have[0]][1][:200])
            uids.append(have[0])
        self.assertEqual(sorted(uids), sorted(inbox))
        # some flags, set by another client
        self.store(user, "INBOX", uids[0], "+FLAGS", ["\\Seen"])
        self.store(user, "INBOX", uids[1], "+FLAGS", ["\\Seen", "\\Flagged"])
        self.store(user, "INBOX", uids[2], "+FLAGS", ["\\Answered"])
        self.store(user, "INBOX", uids[3], "+FLAGS", ["\\Seen", "\\Answered", "\\Flagged"])
        self.store(user, "INBOX", uids[4], "+FLAGS", ["\\Draft"])
        self.store(user, "INBOX", uids[6], "+FLAGS", ["\\Seen"])
        inbox = self.server(user, "INBOX")
        self.assertEqual([sorted(inbox[u][0]) for u in uids],
                         [["\\Seen"], ["\\Flagged", "\\Seen"], ["\\Answered"],
                          ["\\Answered", "\\Flagged", "\\Seen"], ["\\Draft"], [],
                          ["\\Seen"], [], [], []])
        self.assertEqual(self.server(user, "Archive"), {})

        # -- down: a fresh Maildir gets every message, byte for byte -------------
        md = os.path.join(self.tmp, "mail")
        rc = self.mbsyncrc(user, md)
        self.assertSynced(rc)
        local = self.maildir(md, "INBOX")
        self.assertEqual(len(local), len(self.msgs), self.why())
        self.assertSame(inbox, local, "down")
        # byte for byte: what mbsync wrote is the server's message with LF
        # line ends and one line of its own, "X-TUID: <12 characters>",
        # added as the last header line; nothing else
        for name, (_, data) in local.items():
            self.assertEqual(untuid(data)[1], 1, (name, data[:600]))
            self.assertNotIn(b"\r", data, name)
        for _, data in inbox.values():
            self.assertEqual(untuid(data)[1], 0, data[:600])
        self.assertEqual(self.maildir(md, "Archive"), {})
        # the server unchanged by being read: UIDs, flags, bytes
        self.assertEqual(self.server(user, "INBOX"), inbox)
        # a second run with nothing changed changes nothing on either side
        out = self.assertSynced(rc)
        self.assertNotRegex(out, rb">>> \d+ (UID STORE|APPEND|UID FETCH \S+ \(BODY)",
                            self.why())
        self.assertEqual(self.maildir(md, "INBOX"), local)
        self.assertEqual(self.server(user, "INBOX"), inbox)

        # -- changes in the Maildir --------------------------------------------
        by_body = {plain(b): u for u, (_, b) in inbox.items()}
        name_of = {by_body[plain(b)]: n for n, (_, b) in local.items()}
        ibox = os.path.join(md, "INBOX")
        # uids[5] (no flags) marked seen and flagged by renaming
        rename_flags(ibox, name_of[uids[5]], "FS")
        # uids[1] (seen, flagged): the flag taken away, seen kept
        rename_flags(ibox, name_of[uids[1]], "S")
        # uids[7] deleted
        os.unlink(os.path.join(ibox, name_of[uids[7]]))
        # uids[3] (seen, answered, flagged) moved to Archive, as a mail
        # reader does: a new name there, without INBOX's maildir UID
        moved = name_of[uids[3]]
        base = re.sub(r",U=\d+", "", os.path.basename(moved))
        os.rename(os.path.join(ibox, moved), os.path.join(md, "Archive", "cur", base))
        # a new message written in new/
        new_msg = (b"From: Me <%s>\nTo: someone@other.test\n"
                   b"Date: Fri, 27 Nov 2026 09:00:00 +0000\n"
                   b"Message-ID: <new-local@example.test>\nSubject: written locally\n"
                   b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
                   b"Content-Transfer-Encoding: 8bit\n\n"
                   % user.encode() + "a draft, with ünïcödé\n\nsecond paragraph\n".encode())
        with open(os.path.join(ibox, "new", "1795770000.42_1.client.test"), "wb") as f:
            f.write(new_msg)

        # -- up: the server reflects each change ----------------------------------
        self.assertSynced(rc)
        inbox2 = self.server(user, "INBOX")
        archive2 = self.server(user, "Archive")
        why = self.why()
        # untouched: the same UIDs, bytes and flags
        for u in (uids[0], uids[2], uids[4], uids[6], uids[8], uids[9]):
            self.assertEqual(inbox2.get(u), inbox[u], why)
        # the renamed ones: same UID and bytes, the new flags
        self.assertEqual(inbox2.get(uids[5]), (frozenset({"\\Seen", "\\Flagged"}),
                                               inbox[uids[5]][1]), why)
        self.assertEqual(inbox2.get(uids[1]), (frozenset({"\\Seen"}), inbox[uids[1]][1]), why)
        # the deleted one and the moved one: expunged from INBOX
        self.assertNotIn(uids[7], inbox2, why)
        self.assertNotIn(uids[3], inbox2, why)
        # the moved one in Archive, the same bytes (and mbsync's X-TUID
        # line, as with every message it copies) and flags
        self.assertEqual(len(archive2), 1, why)
        (aflags, adata), = archive2.values()
        self.assertEqual((aflags, untuid(adata)), (inbox[uids[3]][0], (inbox[uids[3]][1], 1)),
                         why)
        # the new one appended to INBOX with a new, higher UID: its bytes
        # as written, with CRLF
        added = [u for u in inbox2 if u not in inbox]
        self.assertEqual(len(added), 1, why)
        self.assertGreater(added[0], max(uids))
        nflags, ndata = inbox2[added[0]]
        self.assertEqual((nflags, untuid(ndata)), (frozenset(), (crlf(new_msg), 1)), why)
        self.assertEqual(len(inbox2), len(self.msgs) - 1, why)
        # and both sides agree
        self.assertInSync(user, md, "up")

        # -- round trip: a second, empty Maildir synced down equals the first --------
        md2 = os.path.join(self.tmp, "mail2")
        self.assertSynced(self.mbsyncrc(user, md2, name="again"))
        for folder in FOLDERS:
            one = sorted((sorted(f), plain(b)) for f, b in self.maildir(md, folder).values())
            two = sorted((sorted(f), plain(b)) for f, b in self.maildir(md2, folder).values())
            self.assertEqual(one, two, "round trip, %s\n%s" % (folder, self.why()))
        # the server still as it was after the upload
        self.assertEqual(self.server(user, "INBOX"), inbox2)
        self.assertEqual(self.server(user, "Archive"), archive2)

        # -- the server's changes come down ---------------------------------------
        self.store(user, "INBOX", uids[0], "-FLAGS", ["\\Seen"])
        self.store(user, "INBOX", uids[8], "+FLAGS", ["\\Flagged", "\\Answered"])
        self.store(user, "INBOX", uids[9], "+FLAGS", ["\\Deleted"])
        m = self.login(user)
        try:
            self.assertEqual(m.select("INBOX")[0], "OK")
            self.assertEqual(m.uid("EXPUNGE", str(uids[9]))[0], "OK")
            typ, data = m.uid("MOVE", str(uids[6]), "Archive")
            self.assertEqual(typ, "OK", data)
        finally:
            m.logout()
        late = [("late delivery", head(user, 10, b"late delivery") +
                 b"\r\narrived after the first sync\r\n", False)]
        self.deliver(user, late)
        inbox3 = self.server(user, "INBOX")
        archive3 = self.server(user, "Archive")
        self.assertEqual(len(inbox3), len(inbox2) - 2 + 1)
        self.assertEqual(len(archive3), 2)
        self.assertSynced(rc)
        self.assertInSync(user, md, "server's changes")
        local3 = [(f, plain(b)) for f, b in self.maildir(md, "INBOX").values()]
        self.assertIn((frozenset(), plain(inbox[uids[0]][1])), local3)
        self.assertIn((frozenset({"\\Flagged", "\\Answered"}), plain(inbox[uids[8]][1])),
                      local3)
        self.assertNotIn(plain(inbox[uids[9]][1]), [b for _, b in local3])
        self.assertIn((frozenset({"\\Seen"}), plain(inbox[uids[6]][1])),
                      [(f, plain(b)) for f, b in self.maildir(md, "Archive").values()])
        self.assertTrue(any(b.endswith(lf(late[0][1])) for _, b in local3))
        # and mbsync changed nothing on the server while bringing them down
        self.assertEqual(self.server(user, "INBOX"), inbox3)
        self.assertEqual(self.server(user, "Archive"), archive3)

    # -- folders (issue 8) ---------------------------------------------------------
    def listing(self, user):
        """{mailbox name: set of LIST attributes} on the server."""
        m = self.login(user)
        try:
            return list_mailboxes(m, lower=True)
        finally:
            m.logout()

    def server_tree(self, user):
        """{folder: {uid: (flags, bytes)}} of every folder on the server."""
        return {f: self.server(user, f) for f in self.listing(user)}

    def maildir_tree(self, maildir):
        """{folder: {file: (flags, bytes)}} of every Maildir folder under
        maildir (a directory with cur/, new/ and tmp/), "/" separated."""
        out = {}
        for dirpath, dirs, _ in os.walk(maildir):
            dirs.sort()
            if {"cur", "new", "tmp"} <= set(dirs):
                out[os.path.relpath(dirpath, maildir)] = self.maildir(maildir, os.path.relpath(
                    dirpath, maildir))
            for d in ("cur", "new", "tmp"):
                if d in dirs:
                    dirs.remove(d)
        return out

    def test_folder_tree(self):
        """Patterns *, Create Both, SubFolders Verbatim: a Maildir tree
        (Projects/2026/Q1 with two messages, Projects/Notes with one) goes
        up with CREATE (the server adds the missing parents Projects and
        Projects/2026) and APPEND, byte for byte; a tree made on the
        server (CREATE Lists/imap, APPEND) comes down, and the parents
        the server made (Projects, Projects/2026, Lists) become Maildir
        folders; a third run has nothing to do and changes nothing."""
        user = "tree@example.test"
        subprocess.run([os.path.join(self.build, "sealpostctl"), "-c", self.inst.conf,
                        "user", "add", user, "--password-file", self.pwfile],
                       check=True, capture_output=True)
        standard = {"INBOX", "Drafts", "Sent", "Junk", "Trash", "Archive"}
        self.assertEqual(set(self.listing(user)), standard)
        md = os.path.join(self.tmp, "mail")
        local = {
            "Projects/2026/Q1": [
                ("new/1795770001.1_1.client.test",
                 b"From: Me <me@example.test>\nTo: team@other.test\n"
                 b"Date: Fri, 27 Nov 2026 09:00:00 +0000\nMessage-ID: <q1-a@example.test>\n"
                 b"Subject: Q1 plan\n\nfirst quarter\n.\n..dots\n"),
                ("cur/1795770002.2_1.client.test:2,FS",
                 b"From: Me <me@example.test>\nTo: team@other.test\n"
                 b"Date: Fri, 27 Nov 2026 09:01:00 +0000\nMessage-ID: <q1-b@example.test>\n"
                 b"Subject: =?UTF-8?B?UTEgYnVkZ2V0IOKCrA==?=\nMIME-Version: 1.0\n"
                 b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
                 + "Budget: 1000 €, Grüße\n".encode()),
            ],
            "Projects/Notes": [
                ("cur/1795770003.3_1.client.test:2,S",
                 b"From: Me <me@example.test>\nTo: me@example.test\n"
                 b"Date: Fri, 27 Nov 2026 09:02:00 +0000\nMessage-ID: <note@example.test>\n"
                 b"Subject: a note\n\n" + b"long " * 300 + b"\n"),
            ],
        }
        for folder, msgs in local.items():
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, folder, sub))
            for name, data in msgs:
                with open(os.path.join(md, folder, name), "wb") as f:
                    f.write(data)
        rc = self.mbsyncrc(user, md, patterns=("*",), name="tree")

        # -- up: the tree and its messages reach the server ---------------------
        out = self.assertSynced(rc, create=True)
        self.assertRegex(out, rb'>>> \d+ CREATE "?Projects/2026/Q1"?\r?\n', self.why())
        self.assertRegex(out, rb'>>> \d+ CREATE "?Projects/Notes"?\r?\n', self.why())
        names = self.listing(user)
        why = "%s\n%s" % (names, self.why())
        self.assertEqual(set(names), standard | {"Projects", "Projects/2026",
                                                 "Projects/2026/Q1", "Projects/Notes"}, why)
        self.assertIn("\\haschildren", names["Projects"], why)
        self.assertIn("\\haschildren", names["Projects/2026"], why)
        self.assertIn("\\hasnochildren", names["Projects/2026/Q1"], why)
        self.assertIn("\\hasnochildren", names["Projects/Notes"], why)
        for folder in ("Projects", "Projects/2026"):
            self.assertNotIn("\\noselect", names[folder], why)
            self.assertEqual(self.server(user, folder), {}, why)
        for folder, msgs in local.items():
            have = self.server(user, folder)
            want = sorted((sorted(LETTER_FLAG[c] for c in n.partition(":2,")[2]), d)
                          for n, d in msgs)
            got = []
            for flags, data in have.values():
                # the bytes as written, CRLF, with mbsync's X-TUID line
                body, tuids = untuid(data)
                self.assertEqual(tuids, 1, data[:400])
                self.assertNotIn(b"\n", body.replace(b"\r\n", b""), data[:400])
                got.append((sorted(flags), lf(body)))
            self.assertEqual(sorted(got), want, "%s\n%s" % (folder, self.why()))
        # both sides agree, the parents included (now Maildir folders too)
        # once mbsync has seen them on the server
        self.assertSynced(rc)
        tree = self.maildir_tree(md)
        self.assertEqual(set(tree), set(self.listing(user)), self.why())
        for folder in tree:
            self.assertSame(self.server(user, folder), tree[folder], folder)

        # -- down: a tree made on the server comes down ----------------------------
        m = self.login(user)
        try:
            typ, data = m.create("Lists/imap")
            self.assertEqual(typ, "OK", data)
            msg = (b"From: list@other.test\r\nTo: tree@example.test\r\n"
                   b"Date: Sat, 28 Nov 2026 10:00:00 +0000\r\n"
                   b"Message-ID: <list-1@other.test>\r\nSubject: [imap] hello\r\n"
                   b"List-Id: <imap.other.test>\r\n\r\nto the list\r\n")
            typ, data = m.append("Lists/imap", "(\\Seen)", None, msg)
            self.assertEqual(typ, "OK", data)
        finally:
            m.logout()
        names = self.listing(user)
        self.assertIn("Lists", names)
        self.assertIn("Lists/imap", names)
        self.assertSynced(rc)
        tree = self.maildir_tree(md)
        self.assertEqual(set(tree), set(names), self.why())
        (flags, data), = tree["Lists/imap"].values()
        self.assertEqual((flags, untuid(data)), (frozenset({"\\Seen"}), (lf(msg), 1)),
                         self.why())
        self.assertEqual(tree["Lists"], {}, self.why())
        server = self.server_tree(user)
        self.assertEqual(set(server), set(tree))
        for folder in tree:
            self.assertSame(server[folder], tree[folder], folder)
        # the server's copy untouched by the download
        (sflags, sdata), = server["Lists/imap"].values()
        self.assertEqual((sflags, sdata), (frozenset({"\\Seen"}), msg))

        # -- nothing to do: nothing changes -----------------------------------------
        out = self.assertSynced(rc)
        self.assertNotRegex(out, rb">>> \d+ (CREATE|DELETE|RENAME|UID STORE|APPEND|EXPUNGE|"
                                 rb"UID FETCH \S+ \(BODY)", self.why())
        self.assertEqual(self.maildir_tree(md), tree, self.why())
        self.assertEqual(self.server_tree(user), server, self.why())
        self.assertEqual(self.listing(user), names, self.why())

    def test_untrusted_certificate(self):
        """With a CA file that does not hold the instance's certificate
        (the system's), mbsync refuses the server: a non-zero exit, no
        login in the instance's log, nothing in the Maildir."""
        user = self.fresh_user("wary")
        logins = self.inst.log().count("imap-login event=login ")
        md = os.path.join(self.tmp, "mail")
        code, out = self.mbsync(self.mbsyncrc(user, md, cafile=SYSTEM_CAS))
        self.assertNotEqual(code, 0, self.why())
        self.assertRegex(out.decode("utf-8", "replace"), r"SSL error connecting .*certificate", self.why())
        self.assertEqual(self.inst.log().count("imap-login event=login "), logins, self.why())
        self.assertFalse(os.path.exists(os.path.join(md, "INBOX", "cur")))
        self.assertEqual(len(self.server(user, "INBOX")), len(self.msgs))


def lf(data):
    """A message as a Maildir keeps it: LF line ends."""
    return data.replace(b"\r\n", b"\n")


def untuid(data):
    """(data without the "X-TUID: <12 characters>" line that mbsync adds
    as the last line of the header of every message it copies, so as to
    find it again after an interruption; the number of X-TUID lines in
    the header).  Only a last header line is taken out."""
    lines = data.splitlines(keepends=True)
    end = next((i for i, l in enumerate(lines) if l in (b"\n", b"\r\n")), len(lines))
    count = sum(1 for l in lines[:end] if l.lower().startswith(b"x-tuid:"))
    if end and re.fullmatch(rb"X-TUID: [A-Za-z0-9+/]{12}\r?\n", lines[end - 1]):
        del lines[end - 1]
    return b"".join(lines), count


def plain(data):
    """A message's content with LF line ends, mbsync's X-TUID line out."""
    return untuid(lf(data))[0]


def crlf(data):
    """A message as IMAP carries it: CRLF line ends."""
    return data.replace(b"\n", b"\r\n")


def rename_flags(folder, name, letters):
    """Set a Maildir message's flags by renaming it into cur/ with the
    info ":2,LETTERS", as a mail reader does."""
    base = os.path.basename(name).split(":2,", 1)[0]
    os.rename(os.path.join(folder, name), os.path.join(folder, "cur", base + ":2," + letters))


class ImapMbsync(ImapMbsyncBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class ImapMbsyncPlainBuild(ImapMbsyncBase, unittest.TestCase):
    build = PLAIN or BUILD
