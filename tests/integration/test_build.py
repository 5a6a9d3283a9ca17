"""The build itself: configure names the Debian package of a missing
dependency, and the binaries carry the hardening flags."""

import os
import shutil
import subprocess
import tempfile
import unittest

from sealpost_test import BUILD, TOP

PCDIR = "/usr/lib/x86_64-linux-gnu/pkgconfig"


class Build(unittest.TestCase):
    def test_configure_names_missing_debian_package(self):
        """With only OpenSSL's and libsodium's .pc files visible, configure
        stops at GPGME and says which -dev package to install."""
        tmp = tempfile.mkdtemp(prefix="sp-cfg-")
        try:
            pc = os.path.join(tmp, "pc")
            os.mkdir(pc)
            for m in ("libssl", "libcrypto", "libsodium"):
                shutil.copy(os.path.join(PCDIR, m + ".pc"), pc)
            env = dict(os.environ, PKG_CONFIG_LIBDIR=pc, PKG_CONFIG_PATH="")
            r = subprocess.run([os.path.join(TOP, "configure"), "-q"], cwd=tmp,
                               env=env, capture_output=True, timeout=120)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(b"gpgme >= 1.18 not found (pkg-config): install the "
                          b"Debian package libgpgme-dev", r.stderr)
        finally:
            shutil.rmtree(tmp)

    def test_binaries_are_hardened(self):
        for name in ("sealpostd", "sealpost-smtp", "sealpost-imap-login",
                     "sealpost-pop3-login", "sealpost-imap-mail", "sealpost-pop3-mail"):
            path = os.path.join(BUILD, name)
            dyn = subprocess.run(["readelf", "-dW", path], capture_output=True,
                                 check=True).stdout
            hdr = subprocess.run(["readelf", "-hlW", path], capture_output=True,
                                 check=True).stdout
            self.assertIn(b"BIND_NOW", dyn, name)            # -z now
            self.assertIn(b"PIE", dyn, name)                  # -pie
            self.assertIn(b"GNU_RELRO", hdr, name)            # -z relro
            stack = [l for l in hdr.splitlines() if b"GNU_STACK" in l]
            self.assertTrue(stack and b"RWE" not in stack[0], name)
            syms = subprocess.run(["nm", "-D", path], capture_output=True,
                                  check=True).stdout
            self.assertIn(b"__stack_chk_fail", syms, name)   # -fstack-protector-strong
