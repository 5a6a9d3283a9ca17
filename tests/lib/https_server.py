"""Test HTTPS on loopback: a throwaway CA and server certificates made
with the openssl CLI, the WKD hash, and a threaded HTTPS server (the TLS
handshake in each connection's thread, so a silent client blocks only
itself) answering from a table of paths or from a folder chosen by the
Host header.  Every request is recorded as (path with query, the Host
header as sent)."""

import hashlib
import http.server
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse

ZBASE32 = "ybndrfg8ejkmcpqxot1uwisza345h769"


def wkd_hash(local):
    """draft-koch-openpgp-webkey-service 3.1: SHA-1 of the local part with
    ASCII A-Z lowered (bytes.lower() lowers ASCII only), z-base-32."""
    n = int.from_bytes(hashlib.sha1(local.encode().lower()).digest(), "big")
    return "".join(ZBASE32[(n >> (155 - 5 * i)) & 31] for i in range(32))


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True,
                   timeout=60)


class TestCA:
    """A CA (ca), a server certificate from it for names (cert, key), and
    with rogue_names a self-signed one nobody trusts (rogue_cert,
    rogue_key)."""

    def __init__(self, names, rogue_names=()):
        self.dir = tempfile.mkdtemp(prefix="sp-ca-", dir="/tmp")
        p = lambda n: os.path.join(self.dir, n)
        self.ca, self.cert, self.key = p("ca.pem"), p("server.pem"), p("server.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", p("ca.key"), "-out", self.ca, "-days", "2",
                "-subj", "/CN=sealpost test CA")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", self.key, "-out", p("server.csr"), "-subj", "/CN=" + names[0])
        with open(p("ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nsubjectAltName=%s\n"
                    % ",".join("DNS:" + n for n in names))
        openssl("x509", "-req", "-in", p("server.csr"), "-CA", self.ca, "-CAkey",
                p("ca.key"), "-CAcreateserial", "-out", self.cert, "-days", "2",
                "-extfile", p("ext"))
        if rogue_names:
            self.rogue_cert, self.rogue_key = p("rogue.pem"), p("rogue.key")
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.rogue_key,
                    "-out", self.rogue_cert, "-days", "2", "-subj",
                    "/CN=" + rogue_names[0], "-addext", "subjectAltName="
                    + ",".join("DNS:" + n for n in rogue_names))

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class _Handler(http.server.BaseHTTPRequestHandler):
    """server.files maps a path (no query) to (status, body, headers); the
    headers "no-length" (no Content-Length) and "sleep" (seconds before
    the answer) are not sent.  Else server.roots maps a Host name to a
    folder to serve files from.  Else 404."""

    def do_GET(self):
        srv = self.server
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        with srv.lock:
            srv.seen.append((self.path, self.headers.get("Host")))
        path = urllib.parse.urlsplit(self.path).path
        status, body, headers = srv.files.get(path, (404, b"not here\n", {}))
        root = srv.roots.get(host)
        if path not in srv.files and root is not None:
            full = os.path.normpath(os.path.join(root, path.lstrip("/")))
            if full.startswith(root.rstrip("/") + "/") and os.path.isfile(full):
                with open(full, "rb") as f:
                    # MTA-STS policies must be text/plain (RFC 8461 3.3)
                    status, body, headers = 200, f.read(), (
                        {"Content-Type": "text/plain"} if full.endswith(".txt") else {})
        time.sleep(float(headers.get("sleep", 0)))
        self.send_response(status)
        for k, v in headers.items():
            if k not in ("no-length", "sleep"):
                self.send_header(k, v)
        if "no-length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args):
        pass


class HttpsServer(http.server.ThreadingHTTPServer):
    """HTTPS on addr (host, port) with cert and key; files and roots as
    _Handler says."""
    daemon_threads = True

    def __init__(self, addr, cert, key, files=None, roots=None):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.files = files if files is not None else {}
        self.roots = dict(roots or {})
        self.seen = []
        self.lock = threading.Lock()
        super().__init__(addr, _Handler)

    def finish_request(self, request, client_address):
        request.settimeout(20)
        try:
            request = self.ctx.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass

    def start(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def count(self, needle):
        """How many requests had needle in their path or Host."""
        with self.lock:
            return sum(1 for p, h in self.seen if needle in p or needle in (h or ""))

    def stop(self):
        self.shutdown()
        self.server_close()
