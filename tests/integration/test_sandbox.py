"""Every process of a running instance is confined, checked from /proc:
its role's own uid (never 0), no supplementary groups, NoNewPrivs 1,
Seccomp 2, not dumpable, chrooted into the empty jail.  With test hooks,
a session that tries to open a file that exists in its jail, exec a
program or open an outbound socket is stopped by the sandbox itself, the
event is logged, and other connections are still served; with the sandbox
filters switched off (test-sandbox off) the same hooks succeed, which
shows that these tests check the sandbox and not the empty chroot.

Runs against SEALPOST_BUILD_DIR (the sanitizer build in CI) and, when
contrib/dev test provides it, SEALPOST_PLAIN_BUILD_DIR (no sanitizers: the
allow-lists differ)."""

import os
import pwd
import re
import socket
import unittest

from sealpost_test import BUILD, Instance, connect, read_line
from sealpost_test import proc_status as status_fields

HOOKS = os.path.exists(os.path.join(BUILD, "config.h")) and \
    "#define SP_TEST_HOOKS 1" in open(os.path.join(BUILD, "config.h")).read()

ROLE_USER = {"auth": "_sp_auth", "filter": "_sp_filter", "deliver": "_sp_deliver",
             "queue": "_sp_queue", "control": "_sp_ctl", "pgp": "_sp_pgp",
             "mta": "_sp_mta", "signer": "_sp_sign",
             "smtp": "_sp_smtp",
             "imap-login": "_sp_login", "pop3-login": "_sp_login"}
SESSION_ROLE = {"smtp": "smtp", "submission": "smtp", "submissions": "smtp",
                "imap": "imap-login", "imaps": "imap-login",
                "pop3": "pop3-login", "pop3s": "pop3-login"}


class Confinement:
    build = BUILD

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("sandbox", build=cls.build).start()
        cls.inst.wait_services_ready()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        bad = [l for l in cls.inst.bad_log_lines() if "sandbox-violation" not in l
               and "signal=31" not in l]
        if not bad:
            cls.inst.cleanup()
        assert not bad, "\n".join(bad)

    def assert_confined(self, pid, role):
        st = status_fields(pid)
        uid = pwd.getpwnam(ROLE_USER[role]).pw_uid
        self.assertEqual(st["Uid"].split(), [str(uid)] * 4, role)
        self.assertNotIn("0", st["Gid"].split(), role)
        self.assertEqual(st["Groups"], "", role)
        self.assertEqual(st["NoNewPrivs"], "1", role)
        self.assertEqual(st["Seccomp"], "2", role)
        # not dumpable: the kernel hands the files in /proc/PID to root
        self.assertEqual(os.stat("/proc/%d/status" % pid).st_uid, 0, role)
        if role in ("deliver", "queue"):
            # its own mount namespace: DATA_DIR/mail (deliver) or
            # DATA_DIR/queue (queue) at /mail, nothing else
            self.assertEqual(sorted(os.listdir("/proc/%d/root/" % pid)),
                             ["mail", "usr"], role)
            if role == "queue":
                self.assertEqual(os.listdir("/proc/%d/root/mail" % pid), ["spool"])
            return
        if role == "pgp":
            # its own mount namespace: /usr for gpg, /dev/null, the
            # keyring read-only at /gnupg, the merged-/usr links; the
            # signing home (no signing key here: its gpg.conf only)
            root = "/proc/%d/root/" % pid
            self.assertEqual(sorted(os.listdir(root)),
                             ["bin", "dev", "discovered", "gnupg", "lib", "lib64",
                              "signing", "signkey", "usr"], role)
            self.assertEqual(os.listdir(root + "signing"), ["gpg.conf"])
            self.assertEqual(os.listdir(root + "signkey"), [])
            self.assertEqual(os.listdir(root + "dev"), ["null"])
            self.assertEqual(sorted(os.listdir(root + "gnupg")),
                             ["gpg.conf", "pubring.kbx"])
            with self.assertRaises(OSError):
                open(root + "gnupg/x", "w")     # read-only, even for root
            # the learnt keys: the pgp user's own, nobody else's
            self.assertEqual(sorted(os.listdir(root + "discovered")),
                             ["all", "autocrypt", "wkd"])
            st = os.stat(root + "discovered")
            self.assertEqual(st.st_mode & 0o777, 0o700)
            self.assertNotEqual(st.st_uid, 0)
            return
        self.assertEqual(os.readlink("/proc/%d/root" % pid),
                         os.path.join(self.inst.dir, "run", "empty"), role)
        if role == "filter":
            # its own tmpfs over the empty jail, holding only its /tmp
            # for libclamav (0700, its own); the shared jail stays empty
            self.assertEqual(os.listdir("/proc/%d/root/" % pid), ["tmp"], role)
            st = os.stat("/proc/%d/root/tmp" % pid)
            self.assertEqual((st.st_uid, st.st_mode & 0o7777), (uid, 0o700))
            self.assertEqual(os.listdir(os.path.join(self.inst.dir, "run", "empty")), [])
            return
        self.assertEqual(os.listdir("/proc/%d/root/" % pid), [], role)

    def test_services_confined(self):
        for s in self.inst.status()["services"]:
            self.assertTrue(s["ready"], s)
            self.assert_confined(s["pid"], s["name"])
            self.assertIn("seccomp=on", s["sandbox"])

    def test_every_listener_session_confined(self):
        ctx = self.inst.tls_context()
        for kind, role in SESSION_ROLE.items():
            c = connect(self.inst.port(kind))
            if kind in ("submissions", "imaps", "pop3s"):
                c = ctx.wrap_socket(c, server_hostname="127.0.0.1")
            self.assertTrue(read_line(c))    # greeted: confined by now
            pid = self.inst.session_pid(c, role)
            self.assert_confined(pid, role)
            c.close()
        st = self.inst.status()["session_sandbox"]
        for role in ("smtp", "imap-login", "pop3-login"):
            self.assertIn("seccomp=on", st[role])

    @unittest.skipUnless(HOOKS, "needs --enable-test-hooks")
    def test_forbidden_operations_refused_by_sandbox(self):
        for op in ("OPEN", "EXEC", "SOCKET"):
            with connect(self.inst.port("smtp")) as c:
                read_line(c)
                pid = self.inst.session_pid(c, "smtp")
                c.sendall(b"XSPTEST " + op.encode() + b"\r\n")
                reply = read_line(c)
                # refused: killed by seccomp (no reply), or EPERM/EACCES
                self.assertNotIn(b"result=allowed", reply, op)
                if reply:
                    self.assertRegex(reply, rb"result=refused errno=(1|13) ", op)
                else:
                    self.inst.wait_log(r"sandbox violation syscall=\d+")
                    self.inst.wait_log(r"master event=exit proc=smtp pid=%d "
                                       r"(status=70 reason=sandbox-violation|signal=31)"
                                       % pid)
            # the next client is served
            with connect(self.inst.port("smtp")) as c2:
                self.assertTrue(read_line(c2).startswith(b"220 "))
                c2.sendall(b"NOOP\r\n")
                self.assertEqual(read_line(c2), b"250 2.0.0 Ok")


class ConfinementSanitizerBuild(Confinement, unittest.TestCase):
    build = BUILD


PLAIN = os.environ.get("SEALPOST_PLAIN_BUILD_DIR")


@unittest.skipUnless(PLAIN, "SEALPOST_PLAIN_BUILD_DIR not set")
class ConfinementPlainBuild(Confinement, unittest.TestCase):
    build = PLAIN or BUILD


@unittest.skipUnless(HOOKS, "needs --enable-test-hooks")
class FiltersOff(unittest.TestCase):
    """test-sandbox off keeps the jail and the uid but not seccomp/Landlock:
    the hooks then succeed, so the tests above would fail without them."""

    def test_hooks_succeed_without_filters(self):
        with Instance("nofilter", extra_conf=["test-sandbox off"]) as inst:
            inst.wait_services_ready()
            with connect(inst.port("smtp")) as c:
                read_line(c)
                pid = inst.session_pid(c, "smtp")
                self.assertEqual(status_fields(pid)["Seccomp"], "0")
                c.sendall(b"XSPTEST OPEN\r\n")
                self.assertEqual(read_line(c), b"250 2.0.0 open result=allowed")
                c.sendall(b"XSPTEST SOCKET\r\n")
                self.assertEqual(read_line(c), b"250 2.0.0 socket result=allowed")
                c.sendall(b"XSPTEST EXEC\r\n")
                self.assertEqual(read_line(c), b"250 2.0.0 exec result=allowed")
