#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Smart-HTTP git over HTTPS on 127.0.0.1 for the reconciler's auth tests.

Runs /usr/lib/git-core/git-http-backend as a CGI for every request under
GIT_PROJECT_ROOT=--root, after checking HTTP Basic credentials (--user,
--password) or a bearer token (--token).  Anything else gets 401 with a
Basic challenge, as a git host does.  With --redirect BASE every request
is answered 302 to BASE plus its path and query instead (before any
credentials are looked at).  The port goes to <--dir>/port, one
line per request (method, path, status; never a header value) to
<--dir>/log.  The server exits on its own after --idle-timeout seconds
without a request.
"""
import argparse
import base64
import gzip
import hmac
import http.server
import os
import ssl
import subprocess
import sys
import threading
import time

BACKEND = "/usr/lib/git-core/git-http-backend"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sotto-git-test/1"

    def log_message(self, fmt, *args):  # quiet: the log file is enough
        pass

    def note(self, status):
        with self.server.log_lock, open(self.server.log_path, "a") as f:
            f.write("%s %s %d\n" % (self.command, self.path.split("?")[0],
                                    status))

    def authorised(self):
        got = self.headers.get("Authorization", "")
        a = self.server.args
        if got.startswith("Basic ") and a.user is not None:
            want = base64.b64encode(
                ("%s:%s" % (a.user, a.password)).encode()).decode()
            return hmac.compare_digest(got[6:].strip(), want)
        if got.startswith("Bearer ") and a.token is not None:
            return hmac.compare_digest(got[7:].strip(), a.token)
        return False

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length",
                                                        "0")))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        return body

    def reply(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.note(status)

    def handle_git(self):
        self.server.touch()
        body = self.read_body() if self.command == "POST" else b""
        if self.server.args.redirect:
            self.reply(302, [("Location",
                              self.server.args.redirect + self.path),
                             ("Content-Type", "text/plain")], b"moved\n")
            return
        if not self.authorised():
            self.reply(401, [("WWW-Authenticate", 'Basic realm="git"'),
                             ("Content-Type", "text/plain")],
                       b"authentication required\n")
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.server.args.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": self.server.args.user or "token",
            "REMOTE_ADDR": "127.0.0.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        proto = self.headers.get("Git-Protocol")
        if proto:
            env["GIT_PROTOCOL"] = proto
        p = subprocess.run([BACKEND], input=body, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        head, _, out = p.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, out = p.stdout.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            k, _, v = line.partition(":")
            if k.lower() == "status":
                status = int(v.split()[0])
            elif k:
                headers.append((k, v.strip()))
        self.reply(status, headers, out)

    do_GET = handle_git
    do_POST = handle_git


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def touch(self):
        self.last = time.monotonic()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password", default="")
    ap.add_argument("--token")
    ap.add_argument("--redirect")
    ap.add_argument("--idle-timeout", type=float, default=60)
    args = ap.parse_args()

    srv = Server(("127.0.0.1", 0), Handler)
    srv.args = args
    srv.log_path = os.path.join(args.dir, "log")
    srv.log_lock = threading.Lock()
    srv.touch()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)

    def idle():
        while time.monotonic() - srv.last < args.idle_timeout:
            time.sleep(0.5)
        srv.shutdown()

    threading.Thread(target=idle, daemon=True).start()
    tmp = os.path.join(args.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, os.path.join(args.dir, "port"))
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
