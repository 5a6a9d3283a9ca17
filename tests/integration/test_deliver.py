"""The deliver service writes what it is given into the account's new/,
sealed to the account's public key, durably, and can read nothing back.
Driven through a session's channel with the XSPTEST DELIVER hook (test
hooks builds): it makes a key pair, sends a sealed memfd as a session
would, and hands the test the secret key so tests/tools/blobcat can check
every byte."""

import hashlib
import os
import pwd
import stat
import subprocess
import unittest

from sealpost_test import BUILD, Instance, connect, read_line

HOOKS = "#define SP_TEST_HOOKS 1" in open(os.path.join(BUILD, "config.h")).read()
PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")
ACCOUNT = 9
UID = 200000 + ACCOUNT


class DeliverBase:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.blobcat = os.path.join(cls.build, "tests", "tools", "blobcat")
        cls.inst = Instance("deliver", build=cls.build, extra_conf=[
            'test-account nine@example.test "nine pass word" %d' % ACCOUNT]).start()
        cls.inst.wait_services_ready()
        # a first login creates the account's folder (store/layout.h)
        import imaplib
        m = imaplib.IMAP4_SSL("127.0.0.1", cls.inst.port("imaps"),
                              ssl_context=cls.inst.tls_context(), timeout=15)
        m.login("nine@example.test", "nine pass word")
        m.logout()
        cls.new = os.path.join(cls.inst.dir, "data", "mail", str(ACCOUNT), "new")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        bad = cls.inst.bad_log_lines()
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    def deliver(self, account, size, text=""):
        with connect(self.inst.port("smtp")) as c:
            read_line(c)
            c.sendall(b"XSPTEST DELIVER %d %d %s\r\n" % (account, size, text.encode()))
            reply = read_line(c).decode()
        fields = dict(kv.split("=", 1) for kv in reply.split()[3:])
        return fields

    def test_layout_of_the_account_folder(self):
        deliver_gid = pwd.getpwnam("_sp_deliver").pw_gid
        for path, mode, uid, gid in (
                (os.path.join(self.inst.dir, "data", "mail"), 0o711, 0, 0),
                (os.path.dirname(self.new), 0o710, UID, deliver_gid),
                (self.new, 0o770, UID, deliver_gid),
                (os.path.join(os.path.dirname(self.new), "blobs"), 0o700, UID, UID)):
            st = os.lstat(path)
            self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid),
                             (mode, uid, gid), path)

    def test_round_trip_sizes(self):
        for size in (0, 1, 65535, 65536, 65537, 300000, 3 * 1024 * 1024):
            f = self.deliver(ACCOUNT, size)
            self.assertEqual(f["result"], "0", f)
            path = os.path.join(self.new, f["name"])
            st = os.stat(path)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o604)
            out = subprocess.run([self.blobcat, f["sk"], path], capture_output=True, check=True)
            self.assertEqual(len(out.stdout), size)
            self.assertEqual(hashlib.sha256(out.stdout).hexdigest(), f["sha256"])
            meta = subprocess.run([self.blobcat, "-m", f["sk"], path], capture_output=True,
                                  check=True).stdout
            self.assertEqual(meta, b"size=%d folder=INBOX sender=sender@other.test "
                             b"rcpt=demo@example.test\n" % size)
        self.assertEqual([n for n in os.listdir(self.new) if n.startswith(".")], [])

    def test_marker_never_on_disk_in_clear(self):
        marker = "SEALPOSTMARKER7Q"
        f = self.deliver(ACCOUNT, 100000, marker)
        self.assertEqual(f["result"], "0")
        data = open(os.path.join(self.new, f["name"]), "rb").read()
        self.assertNotIn(marker.encode(), data)
        self.assertNotIn(marker.encode(), self.inst.log().encode())

    def test_another_key_cannot_read_it(self):
        f = self.deliver(ACCOUNT, 5000)
        g = self.deliver(ACCOUNT, 10)
        r = subprocess.run([self.blobcat, g["sk"], os.path.join(self.new, f["name"])],
                           capture_output=True)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, b"")

    def test_unknown_account_is_a_temporary_failure(self):
        f = self.deliver(4242, 100)
        self.assertEqual(f["result"], "1")      # DELIVER_TEMP
        self.inst.wait_log(r"deliver event=deliver account=4242 result=fail "
                           r"reason=no-folder")

    def test_deliver_is_confined_to_new(self):
        st = self.inst.service("deliver")
        root = "/proc/%d/root" % st["pid"]
        self.assertEqual(sorted(os.listdir(root)), ["mail", "usr"])
        self.assertIn("seccomp=on", st["sandbox"])
        # it can list new/ (fsync needs it) but not read blobs/
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(os.path.dirname(self.new),
                                                           "blobs")).st_mode), 0o700)


@unittest.skipUnless(HOOKS, "needs --enable-test-hooks")
class Deliver(DeliverBase, unittest.TestCase):
    build = BUILD


@unittest.skipUnless(HOOKS and PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class DeliverPlainBuild(DeliverBase, unittest.TestCase):
    """The same without sanitizers: the sandbox allow-lists differ."""
    build = PLAIN or BUILD
