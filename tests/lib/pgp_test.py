"""OpenPGP helpers for the integration tests, with the real gpg: a home
per person with an ed25519/cv25519 key, which key a stored copy is
encrypted to, and mail from outside read back over IMAP."""

import email
import email.policy
import os
import re
import shutil
import subprocess
import tempfile

_n = [0]


def gpg(home, *args, input=None, check=True):
    r = subprocess.run(["gpg", "--homedir", home, "--batch", "--yes",
                        "--pinentry-mode", "loopback", "--passphrase", ""]
                       + list(args), input=input, capture_output=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("gpg %s: %s" % (" ".join(args), r.stderr.decode()))
    return r


class Keys:
    """A gpg home per person, with an ed25519/cv25519 key."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sp-keys-", dir="/tmp")
        self.homes = {}

    def make(self, address, expire="never", home=None):
        """A key for address in a new home (its name: home), returned;
        the first home made for an address is homes[address]."""
        home = os.path.join(self.dir, home or "h%d" % len(self.homes))
        os.mkdir(home, 0o700)
        gpg(home, "--quick-gen-key", "Test <%s>" % address, "future-default",
            "default", expire)
        self.homes.setdefault(address, home)
        return home

    def public(self, address):
        return gpg(self.homes[address], "--armor", "--export", address).stdout

    def decrypt(self, address, data):
        return gpg(self.homes[address], "--decrypt", input=data).stdout

    def fingerprint(self, address, home=None):
        out = gpg(home or self.homes[address], "--with-colons", "--list-keys",
                  address).stdout.decode()
        return re.search(r"^fpr:+([0-9A-F]{40}):", out, re.M).group(1)

    def subkey_ids(self, address, home=None):
        """The key ids of address's subkeys (what a message is encrypted to)."""
        out = gpg(home or self.homes[address], "--with-colons", "--list-keys",
                  address).stdout.decode()
        return {l.split(":")[4] for l in out.splitlines() if l.startswith("sub:")}

    def encrypted_to(self, stored):
        """The key id a stored PGP/MIME copy is encrypted to, None for a
        copy that is not multipart/encrypted."""
        msg = email.message_from_bytes(stored, policy=email.policy.compat32)
        if msg.get_content_type() != "multipart/encrypted":
            return None
        armored = msg.get_payload()[1].get_payload().encode()
        r = gpg(self.dir, "--list-packets", input=armored, check=False)
        m = re.search(rb"keyid ([0-9A-F]{16})", r.stdout + r.stderr)
        return m.group(1).decode() if m else "?"

    def close(self):
        if not os.path.isdir(self.dir):
            return          # closed already
        for h in set(self.homes.values()) | {os.path.join(self.dir, d)
                                             for d in os.listdir(self.dir)}:
            subprocess.run(["gpgconf", "--homedir", h, "--kill", "gpg-agent"],
                           capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def mail_in(inst, addr):
    """A message from outside to addr over SMTP; its stored copy, read
    back over IMAP."""
    _n[0] += 1
    mid = b"<in%d.%d@pgp.test>" % (os.getpid(), _n[0])
    msg = (b"From: x@other.test\r\nTo: " + addr.encode() + b"\r\nSubject: in\r\n"
           b"Date: Fri, 27 Nov 2026 12:00:00 +0000\r\nMessage-ID: " + mid
           + b"\r\n\r\nsecret %d\r\n" % _n[0])
    inst.deliver(addr, [msg])
    m = inst.imaps(addr)
    m.select("INBOX", readonly=True)
    typ, data = m.fetch("1:*", "(BODY.PEEK[])")
    m.logout()
    [got] = [d[1] for d in data if isinstance(d, tuple) and mid in d[1]]
    return got
