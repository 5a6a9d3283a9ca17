"""The policy files (issue 11) as the server and sealpostctl load them:
sealpostd refuses to start on a broken policy and names FILE:LINE:COL; a
reload with a broken policy is refused and the running one stays (the
filter is not renewed); a good one starts a fresh filter that holds it
while the old filter finishes its sessions; sealpostctl policy check
(the folder, or one file alone) and policy explain (the rules that apply,
where each setting comes from, the group, a spam score's action) on the
example policies in policy/."""

import os
import re
import shutil
import smtplib
import subprocess
import unittest

from sealpost_test import BUILD, TOP, Instance

CONF = ["instance-type test", "kdf-strength test"]
SEALPOSTD = os.path.join(BUILD, "sealpostd")


class Policy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance("policy", extra_conf=CONF).start()
        cls.inst.wait_services_ready()
        cls.pdir = os.path.join(cls.inst.dir, "policy")

    @classmethod
    def tearDownClass(cls):
        cls.inst.finish()

    def write(self, name, text):
        path = os.path.join(self.pdir, name)
        with open(path, "w") as f:
            f.write(text)
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        return path

    def test_dev_instance_has_the_defaults(self):
        self.assertEqual(os.listdir(self.pdir), ["default.policy"])
        self.assertRegex(self.inst.log(), r"policy loaded from \S+/policy: 1 file, 0 rules")
        r = self.inst.ctl("policy", "check")
        self.assertEqual(r.stdout, b"policy OK: 1 file, 0 rules, a defaults block\n")

    def test_broken_policy_refused_on_reload(self):
        pid = self.inst.service("filter")["pid"]
        self.write("zz-broken.policy", "rule x {\n\trecipient @a.example\n\tspam junk abov 5\n}\n")
        r = self.inst.ctl("reload", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stderr, b'sealpostctl: reload refused: policy: '
                         b'zz-broken.policy:3:12: unexpected "abov" after "spam junk" '
                         b'(expected "above" or "never")\n')
        self.inst.wait_log(r"reload refused, the running configuration stays: policy: "
                           r"zz-broken\.policy:3:12")
        self.assertEqual(self.inst.service("filter")["pid"], pid)
        r = self.inst.ctl("policy", "check", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"zz-broken.policy:3:12", r.stderr)

    def test_good_policy_renews_the_filter(self):
        pid = self.inst.service("filter")["pid"]
        shutil.copy(os.path.join(TOP, "policy", "legal.policy"), self.pdir)
        self.addCleanup(os.unlink, os.path.join(self.pdir, "legal.policy"))
        r = self.inst.ctl("reload")
        self.assertIn(b"configuration reloaded", r.stdout)
        self.inst.wait_log(r"policy loaded from \S+: 2 files, 2 rules")
        self.inst.wait_log(r"service filter renewed: pid=\d+ serves new sessions, "
                           r"pid=%d finishes its own" % pid, timeout=20)
        self.inst.wait_log(r"filter event=start .* policy_files=2 policy_rules=2")

    def test_explain(self):
        shutil.copy(os.path.join(TOP, "policy", "legal.policy"), self.pdir)
        self.addCleanup(os.unlink, os.path.join(self.pdir, "legal.policy"))
        out = self.inst.ctl("policy", "explain", "--from", "x@other.example",
                            "--rcpt", "judge@LEGAL.example.org",
                            "--spam-score", "7.5").stdout.decode()
        self.assertIn("group legal-inbound\n", out)
        self.assertIn('pgp required (rule "legal-inbound", legal.policy:10)\n', out)
        self.assertIn("max-size 10M (rule \"legal-inbound\", legal.policy:14)\n", out)
        self.assertRegex(out, r"spam junk above 6 \(defaults, default\.policy:\d+\)\n")
        self.assertIn("a spam score of 7.50: junk\n", out)
        # not the department: the defaults; and the sender's policy
        out = self.inst.ctl("policy", "explain", "--from", "x@other.example",
                            "--rcpt", "y@example.test").stdout.decode()
        self.assertIn("group default\n", out)
        self.assertIn("pgp opportunistic (defaults, default.policy:16)\n", out)
        self.assertIn("max-size unset (built-in)\n", out)
        out = self.inst.ctl("policy", "explain", "--from", "me@legal.example.org",
                            "--listener", "submission", "--authenticated").stdout.decode()
        self.assertIn("(no recipient: the sender's policy", out)
        self.assertIn('tls required (rule "legal-outbound", legal.policy:', out)
        # a forged sender on the MX listener gets nothing of it
        out = self.inst.ctl("policy", "explain", "--from", "me@legal.example.org").stdout
        self.assertIn(b"tls opportunistic (defaults, default.policy:25)\n", out)

    def test_check_one_file(self):
        for name in ("default.policy", "strict.policy", "legal.policy"):
            r = subprocess.run([os.path.join(BUILD, "sealpostctl"), "policy", "check",
                                os.path.join(TOP, "policy", name)], capture_output=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, rb"^policy OK: 1 file, \d+ rules?")
        bad = self.write("x.txt", "defaults {\n\tantivirus maybe\n}\n")
        r = subprocess.run([os.path.join(BUILD, "sealpostctl"), "policy", "check", bad],
                           capture_output=True)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, rb"^sealpostctl: policy: x\.txt:2:12: ")
        # one byte past the limit: refused, never parsed cut short
        big = self.write("big.txt", "#" * 80 + "\n" * (1024 * 1024 - 80) + "#")
        r = subprocess.run([os.path.join(BUILD, "sealpostctl"), "policy", "check", big],
                           capture_output=True)
        self.assertEqual((r.returncode, r.stderr),
                         (1, b"sealpostctl: big.txt: larger than 1048576 bytes\n"))
        r = self.inst.ctl("policy", "explain", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"usage: sealpostctl", r.stderr)

    def test_rcpt_phase_groups_and_max_size(self):
        """From the Internet a recipient of another policy group is
        deferred (452 4.5.3) and goes in its own transaction; on
        submission nothing is split; rules with only per-recipient
        settings split nothing; max-size refuses at RCPT (SIZE=) and at
        the end of DATA."""
        for u in ("plain", "grp", "small", "enc"):
            self.inst.add_user("%s@example.test" % u)
        self.write("rcpt.policy", "rule grp {\n\trecipient grp@example.test\n"
                   "\tspam junk above 3\n}\n"
                   "rule small {\n\trecipient small@example.test\n\tmax-size 2K\n}\n"
                   "rule enc {\n\trecipient enc@example.test\n\tpgp never\n\tprotect-subject yes\n}\n")
        self.inst.ctl("reload")
        self.inst.wait_log(r"filter event=start .* policy_rules=3", timeout=20)
        msg = (b"From: a@other.test\r\nTo: x@example.test\r\n"
               b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\nMessage-ID: <r@t>\r\n"
               b"Subject: rcpt\r\n\r\nhello\r\n")
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=30) as s:
            s.ehlo("client.test")
            s.mail("a@other.test")
            self.assertEqual(s.rcpt("plain@example.test")[0], 250)
            self.assertEqual(s.rcpt("enc@example.test")[0], 250)     # no split
            self.assertEqual(s.rcpt("grp@example.test"),
                             (452, b"4.5.3 Recipient of another policy group: send it "
                                   b"in a separate transaction"))
            self.assertEqual(s.data(msg)[0], 250)
            s.mail("a@other.test")
            self.assertEqual(s.rcpt("grp@example.test")[0], 250)
            self.assertEqual(s.data(msg)[0], 250)
            s.mail("a@other.test", ["SIZE=5000"])
            self.assertEqual(s.rcpt("small@example.test"),
                             (552, b"5.3.4 Message too big for this recipient"))
            s.rset()
            s.mail("a@other.test")
            self.assertEqual(s.rcpt("small@example.test")[0], 250)
            code, text = s.data(msg + (b"x" * 78 + b"\r\n") * 60)
            self.assertEqual((code, text), (552, b"5.3.4 Message too big for a recipient"))
            s.mail("a@other.test")
            self.assertEqual(s.rcpt("small@example.test")[0], 250)
            self.assertEqual(s.data(msg)[0], 250)
        # a submission is not split: the sender's policy decides
        with smtplib.SMTP("127.0.0.1", self.inst.port("submission"), timeout=30) as s:
            s.starttls(context=self.inst.tls_context())
            s.login("demo@example.test", self.inst.demo_password)
            s.mail("demo@example.test")
            self.assertEqual(s.rcpt("plain@example.test")[0], 250)
            self.assertEqual(s.rcpt("grp@example.test")[0], 250)
            self.assertEqual(s.data(msg)[0], 250)

    def test_sealpostd_refuses_to_start(self):
        self.write("bad.policy", "rule {\n}\n")
        r = subprocess.run([SEALPOSTD, "-n", "-c", self.inst.conf], capture_output=True)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, rb"sealpostd: policy: bad\.policy:1:6: ")


if __name__ == "__main__":
    unittest.main()
