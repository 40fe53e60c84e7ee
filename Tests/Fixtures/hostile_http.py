#!/usr/bin/env python3
"""A hostile HTTP/1.1 peer for netagent's tests: it answers whatever the test scripts, on 127.0.0.1 port 0.

    /usr/bin/python3 Tests/Fixtures/hostile_http.py RULES_FILE LOG_FILE

It prints "PORT <n>" on stdout once listening. For each request it reads RULES_FILE (a JSON
list, so the test may rewrite it between requests) and answers with the first rule whose
"method" ("*" for any) and "path" (a prefix of the path, query left out) match:

    {"method": "GET", "path": "/zones", "status": 200, "headers": {"X-A": "b"}, "body": "..."}

In "body", {{headers}} becomes the request's header lines (as a proxy that echoes them would
send them) and {{headers_json}} the same lines escaped for a JSON string. With no rule matching
the answer is 404. Every request is appended to LOG_FILE as one JSON line: method, path, body.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

RULES, LOG = sys.argv[1], sys.argv[2]
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = urlparse(self.path).path
        with lock:
            with open(LOG, "a") as log:
                log.write(json.dumps({"method": self.command, "path": self.path,
                                      "body": body.decode("utf-8", "replace")}) + "\n")
            with open(RULES) as f:
                rules = json.load(f)
        rule = next((r for r in rules if r.get("method", "*") in ("*", self.command)
                     and path.startswith(r.get("path", "/"))), None)
        if rule is None:
            rule = {"status": 404, "body": '{"success":false,"errors":[{"code":7003,"message":"no route"}],"result":null}'}
        echoed = "".join("%s: %s\r\n" % (k, v) for k, v in self.headers.items())
        text = rule.get("body", "").replace("{{headers}}", echoed).replace("{{headers_json}}", json.dumps(echoed)[1:-1])
        data = text.encode()
        self.send_response(rule.get("status", 200))
        self.send_header("Content-Type", rule.get("contentType", "application/json"))
        self.send_header("Content-Length", str(len(data)))
        for k, v in rule.get("headers", {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
