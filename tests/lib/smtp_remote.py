"""Stand-ins for other mail servers in the outbound tests: a threaded
TCP server base class (Remote: each connection to serve() in a thread of
its own), a configurable SMTP sink (Sink: STARTTLS with a given
certificate or none, AUTH PLAIN, recording every command and message),
and the test message maker."""

import base64
import email.utils
import socket
import ssl
import threading


def message(subject, body=b"hello\r\n", sender="demo@example.test", to="bob@b.test"):
    return (b"From: <" + sender.encode() + b">\r\nTo: <" + to.encode() + b">\r\n"
            b"Date: " + email.utils.formatdate().encode() + b"\r\n"
            b"Subject: " + subject.encode() + b"\r\nMessage-ID: <" + subject.encode()
            + b"@example.test>\r\n\r\n" + body)


class Remote(threading.Thread):
    """A stand-in for another MTA on host:port: each connection is given
    to serve() in a thread of its own."""

    def __init__(self, host, port):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.lock = threading.Lock()

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def stop(self):
        self.sock.close()


class Sink(Remote):
    """An SMTP server on host:port named name: STARTTLS offered when it
    has a certificate (cert, key) and offer_tls is set, AUTH PLAIN after
    TLS when auth is (user, password) (then MAIL needs it).  It records
    every command line (commands: (tls, line)) and each message taken
    (got: dicts of mail, rcpts, data, tls, user).  With keep unset it
    closes the connection after each message (no reuse: every message
    gets a fresh connection, EHLO and AUTH)."""

    def __init__(self, host, port, name, cert=None, key=None, auth=None):
        super().__init__(host, port)
        self.name = name
        self.ctx = None
        if cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(cert, key)
        self.offer_tls = cert is not None
        self.auth = auth
        self.commands = []
        self.got = []
        self.keep = True

    def serve(self, c):
        try:
            self.converse(c)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            c.close()

    def converse(self, c):
        c.settimeout(20)
        f = c.makefile("rb")
        tls, user, mail, rcpts = False, None, None, []
        c.sendall(b"220 %s ESMTP\r\n" % self.name.encode())
        while True:
            line = f.readline(4096)
            if not line:
                return
            cmd = line.rstrip(b"\r\n")
            with self.lock:
                self.commands.append((tls, cmd))
            verb = cmd.split(b" ", 1)[0].upper()
            if verb == b"EHLO":
                ext = [self.name.encode(), b"8BITMIME"]
                if self.offer_tls and not tls:
                    ext.append(b"STARTTLS")
                if self.auth and tls:
                    ext.append(b"AUTH LOGIN PLAIN")
                c.sendall(b"".join(b"250-" + e + b"\r\n" for e in ext[:-1])
                          + b"250 " + ext[-1] + b"\r\n")
            elif verb == b"STARTTLS" and self.offer_tls and not tls:
                c.sendall(b"220 go ahead\r\n")
                c = self.ctx.wrap_socket(c, server_side=True)
                f = c.makefile("rb")
                tls = True
            elif verb == b"AUTH" and self.auth and tls:
                parts = cmd.split(b" ")
                try:
                    _, u, p = base64.b64decode(parts[2]).split(b"\0")
                except (IndexError, ValueError):
                    u = p = None
                if (u, p) == tuple(x.encode() for x in self.auth):
                    user = u.decode()
                    c.sendall(b"235 2.7.0 ok\r\n")
                else:
                    c.sendall(b"535 5.7.8 bad credentials\r\n")
            elif verb == b"MAIL":
                if self.auth and user is None:
                    c.sendall(b"530 5.7.0 authentication required\r\n")
                    continue
                mail, rcpts = cmd, []
                c.sendall(b"250 ok\r\n")
            elif verb == b"RCPT":
                rcpts.append(cmd)
                c.sendall(b"250 ok\r\n")
            elif verb == b"DATA":
                c.sendall(b"354 go on\r\n")
                data = b""
                while True:
                    l = f.readline(65536)
                    if not l or l == b".\r\n":
                        break
                    data += l[1:] if l.startswith(b".") else l
                with self.lock:
                    self.got.append(dict(mail=mail, rcpts=rcpts, data=data,
                                         tls=tls, user=user))
                c.sendall(b"250 taken\r\n")
                if not self.keep:
                    return
            elif verb == b"RSET":
                c.sendall(b"250 ok\r\n")
            elif verb == b"QUIT":
                c.sendall(b"221 bye\r\n")
                return
            else:
                c.sendall(b"502 5.5.1 no\r\n")

    def saw(self, verb):
        """Whether any command line began with verb (b"MAIL"), any case."""
        with self.lock:
            return any(l.upper().startswith(verb.upper()) for _, l in self.commands)

    def messages(self, needle):
        with self.lock:
            return [g for g in self.got if needle in g["data"]]
