"""Test HTTPS on loopback: a throwaway CA and server certificate made with
the openssl CLI, and a static file server that picks its folder by the
Host header (a Web Key Directory tree, an MTA-STS policy...).  Every
request is recorded as (host, path with query)."""

import http.server
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import urllib.parse


class TestCA:
    """A CA and one server certificate for names (DNS subjectAltNames)."""

    def __init__(self, names):
        self.dir = tempfile.mkdtemp(prefix="sp-ca-", dir="/tmp")
        self.ca = os.path.join(self.dir, "ca.pem")
        self.cert = os.path.join(self.dir, "server.pem")
        self.key = os.path.join(self.dir, "server.key")
        p = lambda n: os.path.join(self.dir, n)

        def run(*args):
            subprocess.run(["openssl"] + list(args), check=True,
                           capture_output=True, timeout=60)
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", p("ca.key"), "-out", self.ca, "-days", "2",
            "-subj", "/CN=sealpost test CA")
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", self.key, "-out", p("server.csr"), "-subj", "/CN=" + names[0])
        with open(p("ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nsubjectAltName=%s\n"
                    % ",".join("DNS:" + n for n in names))
        run("x509", "-req", "-in", p("server.csr"), "-CA", self.ca, "-CAkey",
            p("ca.key"), "-CAcreateserial", "-out", self.cert, "-days", "2",
            "-extfile", p("ext"))

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class HttpsServer:
    """Static files over HTTPS on host:port.  roots: {Host name: folder};
    a path outside the folder, or a missing file, is 404."""

    def __init__(self, host, port, cert, key, roots):
        self.roots = dict(roots)
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                name = (self.headers.get("Host") or "").split(":")[0].lower()
                with outer.lock:
                    outer.requests.append((name, self.path))
                root = outer.roots.get(name)
                path = urllib.parse.urlsplit(self.path).path
                full = os.path.normpath(os.path.join(root or "/nonexistent",
                                                     path.lstrip("/")))
                if root is None or not full.startswith(root.rstrip("/") + "/") \
                        or not os.path.isfile(full):
                    self.send_error(404)
                    return
                with open(full, "rb") as f:
                    data = f.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer((host, port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def seen(self, needle):
        """How many requests had needle in their (host, path)."""
        with self.lock:
            return sum(1 for h, p in self.requests if needle in h or needle in p)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
