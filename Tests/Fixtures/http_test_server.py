#!/usr/bin/env python3
"""A small HTTP/1.1 server for NetIO's tests, started by the test on 127.0.0.1 port 0.

It prints "PORT <n>" on stdout once listening. Paths:
  /echo            method, headers and body back as JSON
  /status/<code>   that status with a short body
  /slow?ms=<n>     waits n ms, then 200
  /stream          chunked body, one line every 20 ms, until the client goes away
  /stats           JSON counters: connections seen, streams closed by the client
TLS with --cert/--key; client certificates required with --client-ca.
"""
import argparse, json, ssl, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

lock = threading.Lock()
stats = {"connections": 0, "streams_closed": 0, "peers": []}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with lock:
            stats["connections"] += 1
            stats["peers"].append(self.client_address[1])

    def _send(self, code, body, ctype="application/json", extra=None):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _handle(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/echo":
            self._send(200, json.dumps({
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            }), extra={"X-Echo": "yes"})
        elif url.path.startswith("/status/"):
            code = int(url.path.rsplit("/", 1)[1])
            self._send(code, json.dumps({"status": code}))
        elif url.path == "/slow":
            time.sleep(int(parse_qs(url.query).get("ms", ["1000"])[0]) / 1000)
            self._send(200, "slow done", "text/plain")
        elif url.path == "/stream":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            n = 0
            try:
                while n < 3000:
                    line = json.dumps({"n": n}).encode() + b"\n"
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                    self.wfile.flush()
                    n += 1
                    time.sleep(0.02)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                with lock:
                    stats["streams_closed"] += 1
            self.close_connection = True
        elif url.path == "/stats":
            with lock:
                self._send(200, json.dumps(stats))
        else:
            self._send(404, json.dumps({"error": "not found"}))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca")
    args = ap.parse_args()
    ThreadingHTTPServer.request_queue_size = 512  # the tests open hundreds of connections at once
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("PORT", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
