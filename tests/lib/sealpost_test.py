"""sealpost_test - what every integration test shares.

Instances are started exactly as a developer starts one: `contrib/dev run`
with SEALPOST_DEV_DIR (a fresh temporary folder) and SEALPOST_PORT_OFFSET
(a free block of ports), and stopped by SIGTERM to the PID we started.
rspamd (one per test run, its database folder cached across runs) and a
dnsmasq test DNS server are started the same way, on loopback only.

Python's standard library only (Debian's /usr/bin/python3).
"""

import atexit
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import urllib.request

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("SEALPOST_BUILD_DIR", os.path.join(TOP, "build", "test"))
SCALE = int(os.environ.get("SEALPOST_TEST_SCALE", "1"))
CACHE = os.environ.get("SEALPOST_TEST_CACHE", "/var/tmp/sealpost-test-cache")

BASE_PORTS = {
    "smtp": 2525, "submission": 2587, "submissions": 2465,
    "imap": 2143, "imaps": 2993, "pop3": 2110, "pop3s": 2995,
}
HOSTNAME = "mail.example.test"

# The same sanitizer settings as contrib/dev test, for runs of run.py by hand:
# LeakSanitizer cannot run in sandboxed children (RECIPES.md 9).
os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:exitcode=86:color=never")
os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=86:color=never")

# Sanitizer and crash markers that fail the test whose instance logged them.
_BAD_LOG = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer"
                      r"|runtime error:|signal=(?!15\b)\d+")

_used_offsets = set()      # offsets of instances running now in this process
_running = set()           # instances started and not stopped yet


@atexit.register
def _stop_leftovers():
    """An instance whose test class failed in setUpClass (so that its
    tearDownClass never ran) is stopped when the test run ends, by the
    pid of what it started, never left behind."""
    for inst in list(_running):
        try:
            inst.stop()
        except Exception:       # best effort at exit
            pass


def port_free(port, kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port(kind=socket.SOCK_STREAM, lo=20000, hi=32000):
    """A port below the ephemeral range that nothing holds right now."""
    for _ in range(200):
        p = random.randrange(lo, hi)
        if port_free(p, kind) and port_free(p, socket.SOCK_DGRAM):
            return p
    raise RuntimeError("no free port")


def pick_offset():
    """A SEALPOST_PORT_OFFSET whose seven ports are all free.  Offsets are
    multiples of 1000 from 7000, so every port stays below 32768."""
    for _ in range(100):
        off = 1000 * random.randrange(7, 30)
        if off in _used_offsets:
            continue
        if all(port_free(p + off) for p in BASE_PORTS.values()):
            _used_offsets.add(off)
            return off
    raise RuntimeError("no free block of ports")


def wait_for(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise TimeoutError("timed out waiting for " + what)



def list_mailboxes(m, lsub=False, lower=False):
    """{mailbox name: set of attributes} from imaplib's LIST (or LSUB)
    "" "*"; the attributes lower-cased when lower is set."""
    typ, data = (m.lsub if lsub else m.list)('""', "*")
    if typ != "OK":
        raise AssertionError("LIST: %s %r" % (typ, data))
    out = {}
    for line in data:
        mo = re.fullmatch(rb'\(([^)]*)\) (?:"/"|NIL) ("(?:[^"\\]|\\.)*"|\S+)', line)
        if mo is None:
            raise AssertionError("LIST line %r" % line)
        name = mo.group(2)
        if name.startswith(b'"'):
            name = re.sub(rb"\\(.)", rb"\1", name[1:-1])
        attrs = mo.group(1).decode()
        out[name.decode()] = set((attrs.lower() if lower else attrs).split())
    return out

class Instance:
    """A sealpostd development instance in a temporary folder."""

    def __init__(self, name="test", extra_conf=(), build=None, spam=False,
                 host="127.0.0.1"):
        """spam: use the test run's shared rspamd (rspamd()); without it
        the instance scores no spam (rspamd-url none).  host: the loopback
        address it listens on (two instances: 127.0.0.2 and 127.0.0.3)."""
        self.build = build or BUILD
        self.host = host
        # Mail queued for remote recipients must never reach the real DNS
        # or the Internet from a test: unless the test gives its own
        # resolver, the mta asks one that is not there (the discard port,
        # nothing listens: every lookup fails for now, the mail waits).
        if not any(l.split()[:1] == ["dns-resolver"] for l in extra_conf):
            extra_conf = list(extra_conf) + ["dns-resolver 127.0.0.1@9"]
        self.spam = spam
        self.extra_conf = list(extra_conf)
        self.tmp = tempfile.mkdtemp(prefix="sp-%s-" % name, dir="/tmp")
        self.dir = os.path.join(self.tmp, "inst")
        self.offset = pick_offset()
        self.log_path = os.path.join(self.tmp, "dev-run.log")
        self.proc = None
        self.listeners = None

    # -- life cycle -------------------------------------------------------
    def _env(self):
        return dict(os.environ,
                    SEALPOST_DEV_DIR=self.dir,
                    SEALPOST_PORT_OFFSET=str(self.offset),
                    SEALPOST_DEV_PREPARED="1",
                    SEALPOST_BUILD_DIR=self.build,
                    SEALPOST_LISTEN_ADDR=self.host,
                    SEALPOST_RSPAMD_URL=rspamd().url if self.spam else "none")

    def start(self, timeout=30):
        _used_offsets.add(self.offset)     # again, after a stop
        env = self._env()
        if self.extra_conf and not os.path.exists(self.conf):
            subprocess.run([os.path.join(TOP, "contrib", "dev"), "instance"],
                           env=env, check=True, capture_output=True)
            # an extra line replaces the generated one with its key
            # (max-sessions...), except the keys that may repeat
            keys = {l.split()[0] for l in self.extra_conf if l.split()} - {"listen", "domain"}
            with open(self.conf) as f:
                kept = [l for l in f if not (l.split() and l.split()[0] in keys)]
            with open(self.conf, "w") as f:
                f.write("".join(kept) + "\n".join(self.extra_conf) + "\n")
        self._log = open(self.log_path, "ab")
        _running.add(self)
        self.proc = subprocess.Popen([os.path.join(TOP, "contrib", "dev"), "run"],
                                     env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     start_new_session=True)
        path = os.path.join(self.dir, "run", "listeners.json")

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("contrib/dev run exited %s:\n%s"
                                   % (self.proc.returncode, self.log()))
            try:
                with open(path) as f:
                    return json.load(f)
            except (OSError, ValueError):
                return None
        self.listeners = wait_for(ready, timeout, "listeners.json")
        return self

    def stop(self, timeout=20):
        """SIGTERM to contrib/dev, which stops sealpostd; returns its exit
        status.  Kills the whole process group if it does not stop."""
        if self.proc is None:
            return None
        _running.discard(self)
        _used_offsets.discard(self.offset)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise AssertionError("instance did not stop within %ss" % timeout)
        self._log.close()
        return self.proc.returncode

    def cleanup(self):
        _used_offsets.discard(self.offset)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def finish(self):
        """Stop; remove the folder unless the log holds crash or sanitizer
        reports, which fail the caller (a tearDownClass)."""
        self.stop()
        bad = self.bad_log_lines()
        if not bad:
            self.cleanup()
        assert not bad, "\n".join(bad)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        bad = self.bad_log_lines()
        if not exc[0]:
            self.cleanup()
        if bad and not exc[0]:
            raise AssertionError("instance log has crash or sanitizer reports:\n"
                                 + "\n".join(bad))

    # -- what tests use ---------------------------------------------------
    @property
    def master_pid(self):
        return self.listeners["pid"]

    def port(self, kind):
        for l in self.listeners["listeners"]:
            if l["kind"] == kind:
                return l["port"]
        raise KeyError(kind)

    @property
    def conf(self):
        return os.path.join(self.dir, "sealpost.conf")

    @property
    def cafile(self):
        return os.path.join(self.dir, "tls", "cert.pem")

    def tls_context(self):
        ctx = ssl.create_default_context(cafile=self.cafile)
        ctx.check_hostname = True
        return ctx

    def ctl(self, *args, check=True):
        """Run sealpostctl against this instance; returns CompletedProcess."""
        r = subprocess.run([os.path.join(self.build, "sealpostctl"), "-c", self.conf]
                           + list(args), capture_output=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError("sealpostctl %s: %s" % (" ".join(args), r.stderr))
        return r

    @property
    def demo_password(self):
        with open(os.path.join(self.dir, "demo-password")) as f:
            return f.read().strip()

    def add_user(self, address, quota=None):
        """A user with the demo user's password (read from its file)."""
        self.ctl("user", "add", address, "--password-file",
                 os.path.join(self.dir, "demo-password"),
                 *(["--quota", quota] if quota is not None else []))
        return address

    def imaps(self, user="demo@example.test", password=None):
        """An imaplib connection over implicit TLS, logged in."""
        import imaplib
        m = imaplib.IMAP4_SSL(self.host, self.port("imaps"),
                              ssl_context=self.tls_context(), timeout=30)
        m.login(user, password if password is not None else self.demo_password)
        return m

    def deliver(self, rcpt, messages, sender="a@other.test"):
        """Deliver each message (bytes) to rcpt over one SMTP session."""
        import smtplib
        with smtplib.SMTP(self.host, self.port("smtp"), timeout=60) as s:
            s.ehlo("client.test")
            for msg in messages:
                s.sendmail(sender, [rcpt], msg)

    def pop3s(self, user="demo@example.test", password=None):
        """A poplib connection over implicit TLS (995), logged in."""
        import poplib
        p = poplib.POP3_SSL(self.host, self.port("pop3s"),
                            context=self.tls_context(), timeout=30)
        p.user(user)
        p.pass_(password if password is not None else self.demo_password)
        return p

    def status(self):
        """sealpostctl -j status, decoded."""
        return json.loads(self.ctl("-j", "status").stdout)

    def service(self, name):
        for s in self.status()["services"]:
            if s["name"] == name:
                return s
        raise KeyError(name)

    def wait_services_ready(self, timeout=20):
        return wait_for(lambda: all(s["ready"] for s in self.status()["services"]),
                        timeout, "all services ready", interval=0.1)

    def session_pid(self, sock, proc, timeout=10):
        """The pid of the session serving our end of sock (from the log)."""
        m = self.wait_log(r"event=connect listener=\S+ client=127\.0\.0\.1:%d "
                          r"proc=%s pid=(\d+)" % (sock.getsockname()[1], proc), timeout)
        return int(m.group(1))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def bad_log_lines(self):
        return [l for l in self.log().splitlines() if _BAD_LOG.search(l)]

    def wait_log(self, pattern, timeout=10):
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log()), timeout,
                        "log line matching %r" % pattern)


# --- a test DNS server (dnsmasq) --------------------------------------------
class DnsServer:
    """dnsmasq on 127.0.0.1:PORT.  records: dnsmasq lines such as
    "mx-host=example.test,mx.example.test,10"; every other name gets an
    instant NXDOMAIN.  keep-in-foreground, not -d (RECIPES.md 3: -d blocks
    UDP while a TCP client idles)."""

    def __init__(self, records=()):
        self.port = free_port(socket.SOCK_DGRAM)
        self.tmp = tempfile.mkdtemp(prefix="sp-dns-", dir="/tmp")
        self.records = list(records)
        self.proc = None

    def start(self):
        conf = os.path.join(self.tmp, "dnsmasq.conf")
        with open(conf, "w") as f:
            f.write("port=%d\nlisten-address=127.0.0.1\nbind-interfaces\n"
                    "no-resolv\nno-hosts\nkeep-in-foreground\nuser=nobody\n"
                    % self.port)
            for r in self.records:
                f.write(r + "\n")
            f.write("address=/#/\n")
        self.proc = subprocess.Popen(["dnsmasq", "-C", conf, "--pid-file="],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.tmp, "log"), "wb"))
        wait_for(lambda: self.query("ready.test", 1) is not None, 10, "dnsmasq")
        return self

    def query(self, name, qtype=1, timeout=0.5):
        """Ask for name/qtype over UDP; returns (rcode, ancount) or None."""
        qid = random.randrange(65536)
        pkt = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
        for label in name.rstrip(".").split("."):
            pkt += bytes([len(label)]) + label.encode()
        pkt += b"\0" + struct.pack(">HH", qtype, 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(timeout)
        try:
            s.sendto(pkt, ("127.0.0.1", self.port))
            data, _ = s.recvfrom(4096)
        except OSError:
            return None
        finally:
            s.close()
        rid, flags, _, ancount = struct.unpack(">HHHH", data[:8])
        if rid != qid:
            return None
        return flags & 0xF, ancount

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- rspamd, one per test run -------------------------------------------------
class Rspamd:
    """A real rspamd on loopback with its own DNS server (NXDOMAIN for all)
    so that results are deterministic and nothing leaves the machine.
    DBDIR is cached in CACHE/rspamd-db: a cold start compiles hyperscan
    databases for ~20 s, a warm one takes under a second."""

    def __init__(self, dns=None, conf=None):
        """dns: a DnsServer (started or not) to resolve through instead of
        one of its own (a test that serves DKIM or SPF records); the
        caller starts and stops it.  conf: more configuration files,
        {"local.d/NAME": text}."""
        self.conf = dict(conf or {})
        self.tmp = tempfile.mkdtemp(prefix="sp-rspamd-", dir="/tmp")
        self.own_dns = dns is None
        self.dns = dns
        self.proc = None
        self.port = None

    def start(self, timeout=90):
        if self.own_dns:
            self.dns = DnsServer().start()
        self.port = free_port()
        ctl = free_port()
        local = os.path.join(self.tmp, "local")
        for d in ("local.d", "override.d"):
            os.makedirs(os.path.join(local, d))
        db = os.path.join(CACHE, "rspamd-db")
        run = os.path.join(self.tmp, "run")
        logd = os.path.join(self.tmp, "log")
        for d in (db, run, logd):
            os.makedirs(d, exist_ok=True)
        files = {
            "override.d/worker-normal.inc": 'bind_socket = "127.0.0.1:%d";\ncount = 1;\n' % self.port,
            "override.d/worker-controller.inc": 'bind_socket = "127.0.0.1:%d";\n' % ctl,
            "override.d/worker-proxy.inc": "enabled = false;\n",
            "override.d/worker-fuzzy.inc": "enabled = false;\n",
            "local.d/options.inc": 'dns {\n nameserver = ["127.0.0.1:%d"];\n}\n' % self.dns.port,
            "local.d/fuzzy_check.conf": "enabled = false;\n",
        }
        files.update(self.conf)
        for name, text in files.items():
            with open(os.path.join(local, name), "w") as f:
                f.write(text)
        cmd = ["rspamd", "-f", "-c", "/etc/rspamd/rspamd.conf",
               "--var=LOCAL_CONFDIR=" + local, "--var=DBDIR=" + db,
               "--var=RUNDIR=" + run, "--var=LOGDIR=" + logd]
        if os.geteuid() == 0:
            cmd[1:1] = ["-u", "_rspamd", "-g", "_rspamd"]
            for d in (db, run, logd):
                shutil.chown(d, "_rspamd", "_rspamd")
            os.chmod(self.tmp, 0o755)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.tmp, "stdout"), "wb"),
                                     stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("rspamd exited %s" % self.proc.returncode)
            try:
                with urllib.request.urlopen(self.url + "/ping", timeout=1) as r:
                    return r.read().strip() == b"pong"
            except OSError:
                return False
        wait_for(up, timeout, "rspamd /ping", interval=0.2)
        return self

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def check(self, message, headers=None):
        """POST /checkv2; returns the decoded JSON reply."""
        req = urllib.request.Request(self.url + "/checkv2", data=message,
                                     headers=headers or {}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.dns and self.own_dns:
            self.dns.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


_rspamd = None


def rspamd():
    """The run's shared rspamd, started on first use, stopped at exit."""
    global _rspamd
    if _rspamd is None:
        _rspamd = Rspamd().start()
        atexit.register(_rspamd.stop)
    return _rspamd


# --- small protocol helpers ---------------------------------------------------
def connect(port, timeout=10):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_line(sock, limit=65536):
    """One CRLF-terminated line (bytes, CRLF stripped); b'' on EOF."""
    buf = b""
    while not buf.endswith(b"\r\n"):
        c = sock.recv(1)
        if not c:
            return buf
        buf += c
        if len(buf) > limit:
            raise AssertionError("line too long from server")
    return buf[:-2]


def read_imap_line(sock, limit=16 * 1024 * 1024):
    """One IMAP response line with its literals inline ({N} or ~{N}, then
    N bytes, then the rest of the line), CRLF stripped; b'' on EOF."""
    out = b""
    while True:
        ln = read_line(sock)
        if ln == b"" and out == b"":
            return b""
        out += ln
        m = re.search(rb"~?\{(\d+)\}$", ln)
        if not m:
            return out
        n = int(m.group(1))
        if len(out) + n > limit:
            raise AssertionError("literal too long from server")
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                return out
            data += chunk
        out += b"\r\n" + data


class ImapRaw:
    """One IMAP connection over implicit TLS, logged in, spoken to line by
    line: cmd() returns (untagged lines, the tagged reply without its
    tag), literals inline in their lines."""

    def __init__(self, inst, user, pw):
        self.c = inst.tls_context().wrap_socket(connect(inst.port("imaps")),
                                                server_hostname="127.0.0.1")
        self.c.settimeout(30)
        self.n = 0
        read_line(self.c)
        got, done = self.cmd(b'LOGIN %s "%s"' % (user.encode(), pw.encode()))
        assert done.startswith(b"OK"), done

    def send(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.n += 1
        tag = b"t%d" % self.n
        self.c.sendall(tag + b" " + line + b"\r\n")
        return tag

    def reply(self, tag):
        got = []
        while True:
            ln = read_imap_line(self.c)
            if ln.startswith(tag + b" "):
                return got, ln[len(tag) + 1:]
            if ln == b"":
                raise AssertionError("connection closed after %r" % got)
            got.append(ln)

    def cmd(self, line):
        return self.reply(self.send(line))

    def close(self):
        try:
            self.cmd("LOGOUT")
        except (AssertionError, OSError):
            pass
        self.c.close()


class Pop3Raw:
    """A raw POP3 connection over implicit TLS (995), for exact replies:
    cmd() returns the first line, multi() the lines of a multi-line reply
    (still dot-stuffed, without the final ".")."""

    def __init__(self, inst, user=None, pw=None, kind="pop3s"):
        self.inst = inst
        sock = connect(inst.port(kind))
        if kind == "pop3s":
            sock = inst.tls_context().wrap_socket(sock, server_hostname=HOSTNAME)
        self.sock = sock
        self.greeting = read_line(sock)
        if user is not None:
            assert self.cmd("USER " + user).startswith(b"+OK"), user
            self.login = self.cmd("PASS " + (pw if pw is not None else inst.demo_password))

    def send(self, line):
        if isinstance(line, str):
            line = line.encode()
        self.sock.sendall(line + b"\r\n")

    def line(self):
        return read_line(self.sock)

    def cmd(self, line):
        self.send(line)
        return self.line()

    def lines(self):
        """The rest of a multi-line reply, up to its "." line."""
        out = []
        while True:
            l = read_line(self.sock, limit=1 << 24)
            if l == b".":
                return out
            out.append(l)

    def multi(self, line):
        first = self.cmd(line)
        return first, (self.lines() if first.startswith(b"+OK") else None)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def proc_status(pid):
    """/proc/PID/status as a dict of strings."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out
