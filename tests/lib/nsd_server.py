"""A DNSSEC-signed test zone served by nsd on 127.0.0.1 (RECIPES.md 6):
keys made at test time with ldns-keygen (ECDSA P-256, a KSK and a ZSK),
the zone signed with ldns-signzone, nsd run in the foreground on a free
port; ds is the zone's DS record, the trust anchor a validating resolver
(libunbound in the mta, forwarding to this nsd) is given."""

import os
import shutil
import subprocess
import tempfile

from sealpost_test import free_port, wait_for


class SignedZone:
    def __init__(self, origin, records):
        """origin: "dane.test"; records: zone file lines relative to it
        (the SOA and NS are added)."""
        self.origin = origin.rstrip(".")
        self.tmp = tempfile.mkdtemp(prefix="sp-nsd-", dir="/tmp")
        self.port = free_port(__import__("socket").SOCK_DGRAM)
        self.proc = None
        zone = os.path.join(self.tmp, "zone")
        with open(zone, "w") as f:
            f.write("$ORIGIN %s.\n$TTL 300\n" % self.origin)
            f.write("@ IN SOA ns hostmaster 1 3600 600 86400 300\n@ IN NS ns\n"
                    "ns IN A 127.0.0.1\n")
            for r in records:
                f.write(r + "\n")

        def run(*args):
            return subprocess.run(list(args), cwd=self.tmp, check=True,
                                  capture_output=True, timeout=60).stdout.decode().strip()
        ksk = run("ldns-keygen", "-a", "ECDSAP256SHA256", "-k", self.origin)
        zsk = run("ldns-keygen", "-a", "ECDSAP256SHA256", self.origin)
        run("ldns-signzone", "-n", "zone", ksk, zsk)
        with open(os.path.join(self.tmp, ksk + ".ds")) as f:
            self.ds = f.read().strip()
        with open(os.path.join(self.tmp, "nsd.conf"), "w") as f:
            f.write('server:\n  ip-address: 127.0.0.1@%d\n  username: ""\n'
                    '  database: ""\n  zonesdir: "%s"\n  pidfile: ""\n'
                    '  zonelistfile: ""\n  xfrdfile: ""\n  xfrdir: "%s"\n'
                    'remote-control:\n  control-enable: no\n'
                    'zone:\n  name: %s\n  zonefile: zone.signed\n'
                    % (self.port, self.tmp, self.tmp, self.origin))

    def start(self):
        self.log = open(os.path.join(self.tmp, "nsd.log"), "wb")
        self.proc = subprocess.Popen(["nsd", "-d", "-c", os.path.join(self.tmp, "nsd.conf")],
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_for(lambda: b"nsd started" in open(self.log.name, "rb").read(), 10, "nsd")
        return self

    def trust_anchor_file(self, path):
        with open(path, "w") as f:
            f.write("# the test zone's DS (tests/lib/nsd_server.py)\n" + self.ds + "\n")
        return path

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)
