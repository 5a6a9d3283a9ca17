"""Crashes of the deliver service: at each step of a delivery (after the
blob is written, after it is fsynced, after the rename), deterministically
(test-deliver-crash, a test-hooks key), and kill -9 at random moments
during a stream of deliveries (count from the scale knob).  Every
acknowledged message is imported and readable afterwards, nothing
half-written is ever visible, and store check finds no row without its
blob."""

import hashlib
import os
import random
import signal
import subprocess
import threading
import time
import unittest

from sealpost_test import BUILD, SCALE, Instance, wait_for

HOOKS = "#define SP_TEST_HOOKS 1" in open(os.path.join(BUILD, "config.h")).read()
PW = "crash test password"


def setup_account(inst):
    pw = os.path.join(inst.tmp, "pw")
    with open(pw, "w") as f:
        f.write(PW + "\n")
    ctl = [os.path.join(BUILD, "sealpostctl"), "-c", inst.conf]
    subprocess.run(ctl + ["domain", "add", "crash.test"], check=True, capture_output=True)
    subprocess.run(ctl + ["user", "add", "c@crash.test", "--password-file", pw],
                   check=True, capture_output=True)
    return pw


def deliver(inst, data):
    return subprocess.run([os.path.join(BUILD, "sealpostctl"), "-c", inst.conf,
                           "deliver", "c@crash.test"], input=data,
                          capture_output=True, timeout=60)


def readmail(inst, pw, check=False):
    r = subprocess.run([os.path.join(BUILD, "tests", "tools", "readmail")] +
                       (["-c"] if check else []) +
                       [os.path.join(inst.dir, "data"), "c@crash.test", pw],
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().splitlines()


@unittest.skipUnless(HOOKS, "needs --enable-test-hooks")
class DeliverCrash(unittest.TestCase):
    def test_crash_after_each_step(self):
        for step, visible in (("written", False), ("fsynced", False), ("renamed", True)):
            with Instance("crash-" + step, extra_conf=["test-deliver-crash " + step]) as inst:
                inst.wait_services_ready()
                pw = setup_account(inst)
                data = os.urandom(70000)
                r = deliver(inst, data)
                # never acknowledged: the deliver service died before its answer
                self.assertEqual(r.returncode, 75, (step, r.stderr))
                self.assertIn(b"try again", r.stderr)
                inst.wait_log(r"service deliver exited pid=\d+ status=99")
                lines = readmail(inst, pw)
                if visible:
                    # durable but unacknowledged: the retry will duplicate
                    # it (at least once, DESIGN.md); it is complete
                    self.assertEqual([l.split()[3] for l in lines],
                                     [hashlib.sha256(data).hexdigest()], step)
                else:
                    self.assertEqual(lines, [], step)
                chk = readmail(inst, pw, check=True)[0]
                self.assertRegex(chk, r"missing=0 orphans=0 bad_blobs=0$", step)

    def test_kill_9_during_a_stream_of_deliveries(self):
        n = 30 * SCALE
        inst = Instance("crash-kill").start()
        try:
            inst.wait_services_ready()
            pw = setup_account(inst)
            acked, done = [], threading.Event()

            def sender():
                rnd = random.Random(7)
                for i in range(n):
                    data = os.urandom(rnd.randrange(1, 300000))
                    r = deliver(inst, data)
                    if r.returncode == 0:
                        acked.append(hashlib.sha256(data).hexdigest())
                done.set()

            t = threading.Thread(target=sender)
            t.start()
            kills = 0
            while not done.is_set() and kills < 3 * SCALE:
                time.sleep(random.uniform(0.05, 0.4))
                pid = inst.service("deliver")["pid"]
                if pid:
                    os.kill(pid, signal.SIGKILL)
                    kills += 1
                    wait_for(lambda: inst.service("deliver")["ready"], 20, "deliver back")
            t.join()
            self.assertGreater(kills, 0)
            self.assertGreater(len(acked), 0)
            got = [l.split()[3] for l in readmail(inst, pw)]
            for h in acked:                      # every acknowledged message
                self.assertIn(h, got)
            self.assertNotIn("damaged", " ".join(readmail(inst, pw)))
            chk = readmail(inst, pw, check=True)[0]
            self.assertRegex(chk, r"missing=0 orphans=0 bad_blobs=0$")
        finally:
            inst.stop()
        # our kill -9 lines are expected; nothing else may be there
        bad = [l for l in inst.bad_log_lines() if "signal=9" not in l]
        self.assertEqual(bad, [])
        inst.cleanup()
