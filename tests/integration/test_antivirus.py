"""Antivirus in the filter service (issue 11): libclamav with the test
database contrib/dev makes (the EICAR string; clam.exe of Debian's
clamav-testfiles), scanning in the filter's threads while the sender is
still connected.  EICAR as a plain body, as a base64 attachment and inside
a zip gets 554 5.7.1 naming the signature and nothing is stored; the
clamav-testfiles archives and mail (zip, 7z, tar.gz, cab, arj, bz2, OLE,
PDF, UPX, an mbox) the same; a clean message is delivered; a scan that
hits a limit (clamav-max-recursion) or an engine that did not load (a
database folder without databases) defers with 451 4.7.1 (the built-in
policy fails closed) and stores nothing; libclamav's temporary files stay
in the filter's private tmpfs and are gone after each scan."""

import base64
import io
import os
import re
import smtplib
import unittest
import zipfile

from sealpost_test import BUILD, Instance

PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
TESTFILES = "/usr/share/clamav-testfiles"
CONF = ["instance-type test", "kdf-strength test"]
# the EICAR test string, as every antivirus knows it (not a virus)
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
HEAD = (b"From: a@other.test\r\nTo: av@example.test\r\n"
        b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\nMessage-ID: <%d@av.test>\r\n"
        b"Subject: av %d\r\n")
_n = [0]


def plain(body):
    _n[0] += 1
    return HEAD % (_n[0], _n[0]) + b"\r\n" + body + b"\r\n"


def attached(data, name):
    _n[0] += 1
    b64 = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return (HEAD % (_n[0], _n[0]) + b'MIME-Version: 1.0\r\n'
            b'Content-Type: multipart/mixed; boundary="sp-b"\r\n\r\n'
            b'--sp-b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n'
            b'--sp-b\r\nContent-Type: application/octet-stream; name="' + name.encode() +
            b'"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + b64 + b"--sp-b--\r\n")


def zipped(name, data, depth=1):
    for i in range(depth):
        z = io.BytesIO()
        with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as f:
            f.writestr(name, data)
        data, name = z.getvalue(), "layer%d.zip" % i
    return data


class AntivirusBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("antivirus", build=cls.build, extra_conf=CONF).start()
        cls.inst.wait_services_ready()
        cls.inst.add_user("av@example.test")

    @classmethod
    def tearDownClass(cls):
        cls.inst.finish()

    def send(self, msg, inst=None):
        """None when accepted, else (code, text) of the refusal."""
        inst = inst or self.inst
        with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=60) as s:
            s.ehlo("client.test")
            try:
                s.sendmail("a@other.test", ["av@example.test"], msg)
            except smtplib.SMTPDataError as e:
                return e.smtp_code, e.smtp_error.decode()
        return None

    def inbox(self, inst=None):
        m = (inst or self.inst).imaps("av@example.test")
        try:
            typ, data = m.select("INBOX", readonly=True)
            return int(data[0])
        finally:
            m.logout()

    def assert_virus(self, msg, name):
        before = self.inbox()
        self.assertEqual(self.send(msg),
                         (554, "5.7.1 Message refused: virus found (%s.UNOFFICIAL)" % name))
        self.assertEqual(self.inbox(), before)       # nothing stored

    def test_eicar_plain_base64_zip(self):
        self.assert_virus(plain(EICAR), "Sealpost.Test.EICAR")
        self.assert_virus(attached(EICAR, "eicar.com"), "Sealpost.Test.EICAR")
        self.assert_virus(attached(zipped("eicar.com", EICAR), "eicar.zip"),
                          "Sealpost.Test.EICAR")
        self.assertRegex(self.inst.log(), r"filter event=verdict result=reject id=\S+ size=\d+ "
                         r"antivirus=virus virus=Sealpost\.Test\.EICAR\.UNOFFICIAL av_ms=\d+")

    @unittest.skipUnless(os.path.isdir(TESTFILES), "clamav-testfiles")
    def test_clamav_testfiles(self):
        """clam.exe in every container the package has that libclamav
        opens, sent as an attachment; and the package's own mail files."""
        for name in ("clam.zip", "clam.7z", "clam.tar.gz", "clam.cab", "clam.arj",
                     "clam.exe.bz2", "clam.ole.doc", "clam.pdf", "clam-upx.exe",
                     "clam.exe.rtf", "clam.impl.zip", "clam.bz2.zip"):
            with open(os.path.join(TESTFILES, name), "rb") as f:
                with self.subTest(name=name):
                    self.assert_virus(attached(f.read(), name), "Sealpost.Test.ClamExe")
        for name in ("clam.exe.mbox.base64", "clam.exe.mbox.uu"):
            with open(os.path.join(TESTFILES, name), "rb") as f:
                lines = f.read().replace(b"\r\n", b"\n").split(b"\n")
            # its own MIME header lines under ours (not its From lines)
            lines = [l for l in lines if not l.startswith(b"From")]
            _n[0] += 1
            with self.subTest(name=name):
                self.assert_virus(HEAD % (_n[0], _n[0]) + b"\r\n".join(lines),
                                  "Sealpost.Test.ClamExe")

    def test_clean_delivered(self):
        before = self.inbox()
        self.assertIsNone(self.send(plain(b"nothing to see here")))
        self.assertIsNone(self.send(attached(zipped("notes.txt", b"just notes"), "n.zip")))
        self.assertEqual(self.inbox(), before + 2)
        self.assertRegex(self.inst.log(), r"filter event=verdict result=accept id=\S+ size=\d+ "
                         r"antivirus=clean av_ms=\d+ wait_ms=\d+")

    def test_tmpfs_left_empty(self):
        """libclamav unpacked into the private /tmp and cleaned up."""
        self.assert_virus(attached(zipped("eicar.com", EICAR, 3), "e.zip"),
                          "Sealpost.Test.EICAR")
        pid = self.inst.service("filter")["pid"]
        self.assertEqual(os.listdir("/proc/%d/root/tmp" % pid), [])


class DatabaseRenewal(unittest.TestCase):
    """A changed database folder starts a fresh filter: new sessions get
    the new signatures, a session in flight finishes with the old filter,
    and nothing is refused meanwhile."""

    def test_new_signature_fresh_filter(self):
        with Instance("av-renew", extra_conf=CONF) as inst:
            inst.wait_services_ready()
            inst.add_user("av@example.test")
            marker = b"SEALPOST-TEST-MARKER-4f1d2c"
            old = smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=60)
            old.ehlo("client.test")          # its filter: the first one
            first = inst.service("filter")["pid"]
            db = os.path.join(inst.dir, "clamav")
            with open(os.path.join(db, ".marker.tmp"), "w") as f:
                f.write("Sealpost.Test.Marker:0:*:%s\n" % marker.hex())
            os.rename(os.path.join(db, ".marker.tmp"),
                      os.path.join(db, "sealpost-marker.ndb"))
            inst.wait_log(r"service filter renewed: pid=\d+ serves new sessions, "
                          r"pid=%d finishes its own" % first, timeout=20)
            self.assertNotEqual(inst.service("filter")["pid"], first)
            with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=60) as s:
                s.ehlo("client.test")
                with self.assertRaises(smtplib.SMTPDataError) as e:
                    s.sendmail("a@other.test", ["av@example.test"], plain(marker))
                self.assertEqual((e.exception.smtp_code, e.exception.smtp_error),
                                 (554, b"5.7.1 Message refused: virus found "
                                       b"(Sealpost.Test.Marker.UNOFFICIAL)"))
                s.sendmail("a@other.test", ["av@example.test"], plain(b"still clean"))
            # the session from before: the old filter, the old databases
            old.sendmail("a@other.test", ["av@example.test"], plain(marker))
            with self.assertRaises(smtplib.SMTPDataError):
                old.sendmail("a@other.test", ["av@example.test"], plain(EICAR))
            old.quit()
            inst.wait_log(r"service filter pid=%d \(retired\) ended with status 0"
                          % first, timeout=20)


class Antivirus(AntivirusBase, unittest.TestCase):
    pass


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class AntivirusPlain(AntivirusBase, unittest.TestCase):
    """The same without sanitizers: what runs in production."""
    build = PLAIN


class ScannerFailures(unittest.TestCase):
    """The built-in policy fails closed: 451 4.7.1, nothing stored."""

    def deliver(self, inst, msg):
        with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=60) as s:
            s.ehlo("client.test")
            try:
                s.sendmail("a@other.test", ["demo@example.test"], msg)
            except smtplib.SMTPDataError as e:
                return e.smtp_code, e.smtp_error.decode()
        return None

    def test_limit_reached_defers(self):
        with Instance("av-limit", extra_conf=CONF + ["clamav-max-recursion 2"]) as inst:
            inst.wait_services_ready()
            self.assertEqual(self.deliver(inst, attached(zipped("a.txt", b"clean", 6), "d.zip")),
                             (451, "4.7.1 Message could not be scanned for viruses, "
                                   "try again later"))
            inst.wait_log(r"filter event=antivirus result=limit reason=limit reached")
            self.assertIsNone(self.deliver(inst, plain(b"small and clean")))

    def test_policy_accepts_unscanned_with_a_header(self):
        """scanner-failure accept (for one recipient's domain): the
        message past a limit is delivered with X-Sealpost-Antivirus
        saying it was not scanned; for the others the default defers."""
        inst = Instance("av-open", extra_conf=CONF + ["clamav-max-recursion 2"])
        try:
            inst.start()
            inst.wait_services_ready()
            inst.add_user("open@example.test")
            with open(os.path.join(inst.dir, "policy", "open.policy"), "w") as f:
                f.write("rule fail-open {\n\trecipient open@example.test\n"
                        "\tscanner-failure accept\n}\n")
            inst.ctl("reload")
            inst.wait_log(r"service filter renewed", timeout=20)
            deep = attached(zipped("a.txt", b"clean", 6), "d.zip")
            with smtplib.SMTP("127.0.0.1", inst.port("smtp"), timeout=60) as s:
                s.ehlo("client.test")
                s.sendmail("a@other.test", ["open@example.test"], deep)
                with self.assertRaises(smtplib.SMTPDataError) as e:
                    s.sendmail("a@other.test", ["demo@example.test"], deep)
                self.assertEqual(e.exception.smtp_code, 451)
                # a virus is refused whatever the scanner-failure action
                with self.assertRaises(smtplib.SMTPDataError) as e:
                    s.sendmail("a@other.test", ["open@example.test"], plain(EICAR))
                self.assertEqual(e.exception.smtp_code, 554)
            m = inst.imaps("open@example.test")
            m.select("INBOX", readonly=True)
            typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER])")
            m.logout()
            heads = [d[1] for d in data if isinstance(d, tuple)]
            self.assertEqual(len(heads), 1)
            self.assertTrue(heads[0].startswith(
                b"X-Sealpost-Antivirus: not scanned (a scan limit was reached)\r\n"
                b"Received: from client.test"), heads[0][:200])
            inst.wait_log(r"filter event=verdict result=accept id=\S+ size=\d+ antivirus=limit "
                          r"av_ms=\d+ wait_ms=\d+ policy=fail-open unscanned=accepted")
        finally:
            inst.finish()

    def test_no_engine_defers(self):
        inst = Instance("av-none", extra_conf=CONF)
        try:
            inst.start()
            inst.wait_services_ready()
            inst.stop()
            # a database folder without a database: no engine
            with open(inst.conf) as f:
                conf = f.read()
            empty = os.path.join(inst.dir, "empty-clamav")
            os.mkdir(empty)
            with open(inst.conf, "w") as f:
                f.write(re.sub(r"(?m)^clamav-database .*$", "clamav-database " + empty, conf))
            ready = os.path.join(inst.dir, "run", "listeners.json")
            if os.path.exists(ready):
                os.unlink(ready)
            inst.start()
            inst.wait_services_ready()
            inst.wait_log(r"filter: antivirus unavailable, every message will be deferred")
            self.assertEqual(self.deliver(inst, plain(b"clean but unscanned")),
                             (451, "4.7.1 Message could not be scanned for viruses, "
                                   "try again later"))
            self.assertRegex(inst.log(), r"filter event=start antivirus=\"unavailable")
        finally:
            inst.finish()


if __name__ == "__main__":
    unittest.main()
