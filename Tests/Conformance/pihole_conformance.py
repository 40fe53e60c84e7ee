#!/usr/bin/env python3
"""A Pi-hole v6 API client written from FTL's own OpenAPI files, not from netagent's client.

Every request is built from an operation of the spec (found by operationId: its path
template, its parameters, its request body schema) and every answer is checked against
that operation: the status must be one the spec declares, and a declared JSON body must
validate against the declared schema (OpenAPI 3.0 schemas, `nullable` included, with the
spec's `$ref`s between its files resolved). Behaviour the spec does not describe but FTL's
source does is checked against the source, each check naming where it comes from.

Usage: pihole_conformance.py --url http://127.0.0.1:PORT --password PW --spec DIR
Prints one line per check and ends with "N passed, N failed"; exits 1 when any failed.
"""
import argparse
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4


class Spec:
    """FTL's OpenAPI files: main.yaml's paths, each a $ref into another file."""

    def __init__(self, folder):
        self.documents = {}
        for name in sorted(os.listdir(folder)):
            if name.endswith(".yaml"):
                with open(os.path.join(folder, name)) as handle:
                    self.documents[name] = yaml.safe_load(handle)
        self.registry = Registry().with_resources(
            (name, Resource.from_contents(document, default_specification=DRAFT4))
            for name, document in self.documents.items())
        self.operations = {}
        for template, item in self.documents["main.yaml"]["paths"].items():
            file, _, pointer = item["$ref"].partition("#")
            if file not in self.documents:
                continue  # main.yaml names files (stats.yaml, …) the reference copy does not hold
            path_item = self.resolve(file, pointer)
            for method, operation in path_item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    self.operations[operation["operationId"]] = (template, method.upper(), file, operation)

    def resolve(self, file, pointer):
        node = self.documents[file]
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def parameter(self, file, parameter):
        if "$ref" in parameter:
            ref_file, _, pointer = parameter["$ref"].partition("#")
            return self.resolve(ref_file or file, pointer)
        return parameter

    def validate(self, file, schema, value):
        """Errors of `value` against `schema` (a node of `file`), as strings."""
        # Every $ref in the spec names its file ('common.yaml#/…'), so each resolves in the registry.
        validator = OAS30Validator(schema, registry=self.registry)
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(value)]


class Client:
    def __init__(self, spec, url):
        self.spec = spec
        self.url = url.rstrip("/") + "/api"
        self.passed = 0
        self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}: {detail}")

    def call(self, operation_id, path=None, query=None, body=None, headers=None, expect=None):
        """Sends the operation; returns (status, parsed JSON or None, headers)."""
        template, method, file, operation = self.spec.operations[operation_id]
        path = path or {}
        query = query or {}
        url_path = template
        for raw in operation.get("parameters", []):
            parameter = self.spec.parameter(file, raw)
            name, where = parameter["name"], parameter["in"]
            value = path.get(name) if where == "path" else query.get(name) if where == "query" else None
            if value is None:
                self.check(f"{operation_id}: required parameter {name}", not parameter.get("required"), "missing")
                continue
            errors = self.spec.validate(file, parameter["schema"], value)
            self.check(f"{operation_id}: parameter {name}={value!r} fits its schema", not errors, errors)
            if where == "path":
                # `element` is a config path such as dns/hosts (spec example "dns/upstreams"); a
                # value is one array element, percent-encoded whole (API-FACTS §A.5).
                text = str(value) if name == "element" else urllib.parse.quote(str(value), safe="")
                url_path = url_path.replace("{" + name + "}", text)
        for name in query:
            declared = [self.spec.parameter(file, p)["name"] for p in operation.get("parameters", [])]
            self.check(f"{operation_id}: query {name} is declared", name in declared, declared)
        data = None
        send_headers = dict(headers or {})
        if body is not None:
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            self.check(f"{operation_id}: takes a JSON body", schema is not None)
            if schema is not None:
                errors = self.spec.validate(file, schema, body)
                self.check(f"{operation_id}: request body fits its schema", not errors, errors)
            data = json.dumps(body).encode()
            send_headers["Content-Type"] = "application/json"
        encoded = urllib.parse.urlencode({k: json.dumps(v) if isinstance(v, bool) else v for k, v in query.items()})
        url = self.url + url_path + (f"?{encoded}" if encoded else "")
        request = urllib.request.Request(url, data=data, method=method, headers=send_headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw, reply_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, reply_headers = error.code, error.read(), error.headers
        what = f"{method} {url_path} -> {status}"
        responses = operation["responses"]
        self.check(f"{what}: status declared by {operation_id}", str(status) in responses, sorted(responses))
        if expect is not None:
            self.check(f"{what}: expected {expect}", status == expect, raw[:300])
        parsed = None
        declared = responses.get(str(status), {})
        schema = declared.get("content", {}).get("application/json", {}).get("schema")
        if schema is not None:
            try:
                parsed = json.loads(raw)
            except ValueError:
                self.check(f"{what}: JSON body", False, raw[:200])
            else:
                errors = self.spec.validate(file, schema, parsed)
                self.check(f"{what}: body fits the declared schema", not errors, errors)
        elif raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
        if status == 204:
            self.check(f"{what}: no body", raw == b"", raw[:200])
        return status, parsed, reply_headers

    def raw_get(self, path, headers=None):
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            body = error.read()
            return error.code, json.loads(body) if body else None

    def answers(self):
        """True when GET /auth gets a whole HTTP reply; false when the connection is refused or
        closed before the reply is complete (FTL restarting)."""
        try:
            with urllib.request.urlopen(self.url + "/auth", timeout=2) as response:
                response.read()
            return True
        except urllib.error.HTTPError as error:
            try:
                error.read()
                return True
            except http.client.HTTPException:
                return False
        except (OSError, http.client.HTTPException):
            return False

    def wait_until_up(self, limit=30):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.answers():
                return True
            time.sleep(0.2)
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--spec", required=True)
    args = parser.parse_args()
    client = Client(Spec(args.spec), args.url)
    check = client.check

    # Authentication (auth.yaml).
    status, body, _ = client.call("get_auth", expect=401)
    check("GET /auth without a session: not valid", body and body["session"]["valid"] is False, body)
    status, body, headers = client.call("add_auth", body={"password": args.password}, expect=200)
    sid, csrf = body["session"]["sid"], body["session"]["csrf"]
    check("login: a SID and a CSRF token", bool(sid) and bool(csrf), body)
    # FTL sets the SID as a cookie too (src/api/auth.h FTL_SET_COOKIE; API-FACTS §A.2).
    check("login: Set-Cookie sid", f"sid={sid}" in (headers.get("Set-Cookie") or ""), headers.get("Set-Cookie"))
    auth = {"X-FTL-SID": sid}
    status, body, _ = client.call("get_auth", headers=auth, expect=200)
    check("GET /auth with X-FTL-SID: valid", body["session"]["valid"] is True and body["session"]["validity"] > 0, body)
    # securitySchemes: sid in header `sid`, in the cookie `sid` (with X-CSRF-TOKEN, auth.c), in ?sid=.
    client.call("get_auth", headers={"sid": sid}, expect=200)
    client.call("get_auth", headers={"Cookie": f"sid={sid}", "X-CSRF-TOKEN": csrf}, expect=200)
    client.call("get_auth", headers={"Cookie": f"sid={sid}"}, expect=401)
    status, _ = client.raw_get("/auth?sid=" + urllib.parse.quote(sid, safe=""))
    check("GET /auth?sid=: valid", status == 200, status)
    client.call("add_auth", body={"password": "not-the-password"}, expect=401)

    status, body, _ = client.call("get_auth_sessions", headers=auth, expect=200)
    sessions = body["sessions"]
    check("sessions: the current one listed", any(s.get("current_session") for s in sessions), sessions)

    # Records (config.yaml): the dns.hosts and dns.cnameRecords arrays.
    status, body, _ = client.call("get_config_elem", path={"element": "dns/cnameRecords"}, headers=auth, expect=200)
    check("GET dns/cnameRecords: an array", isinstance(body["config"]["dns"]["cnameRecords"], list), body)
    cname = "conformance.home.test,target.home.test"
    element = {"element": "dns/cnameRecords"}
    client.call("add_array_item", path={**element, "value": cname}, query={"restart": False}, headers=auth, expect=201)
    status, body, _ = client.call("add_array_item", path={**element, "value": cname}, query={"restart": False},
                                  headers=auth, expect=400)
    check("PUT twice: Item already present", body["error"]["message"] == "Item already present", body)
    # A second cname= line for the name: dnsmasq --test refuses it, FTL answers 400 "Invalid
    # configuration" with dnsmasq's complaint (src/api/config.c api_config_put_delete()).
    status, body, _ = client.call("add_array_item", path={**element, "value": "conformance.home.test,other.home.test"},
                                  query={"restart": False}, headers=auth, expect=400)
    check("duplicate CNAME: Invalid configuration", body["error"]["key"] == "bad_request"
          and body["error"]["message"] == "Invalid configuration" and "duplicate CNAME" in (body["error"]["hint"] or ""), body)
    status, body, _ = client.call("add_array_item", path={**element, "value": "loop.home.test,loop.home.test"},
                                  query={"restart": False}, headers=auth, expect=400)
    check("CNAME to itself: Invalid configuration", "CNAME loop" in (body["error"]["hint"] or ""), body)
    status, body, _ = client.call("get_config_elem", path=element, headers=auth, expect=200)
    check("refused lines were not stored", body["config"]["dns"]["cnameRecords"].count(cname) == 1
          and not any(line.startswith("loop.") or "other.home.test" in line for line in body["config"]["dns"]["cnameRecords"]), body)
    client.call("delete_array_item", path={**element, "value": cname}, query={"restart": False}, headers=auth, expect=204)
    client.call("delete_array_item", path={**element, "value": cname}, query={"restart": False}, headers=auth, expect=404)
    hosts = {"element": "dns/hosts"}
    client.call("add_array_item", path={**hosts, "value": "198.18.0.7 conformance.home.test"}, headers=auth, expect=201)
    status, body, _ = client.call("get_config_elem", path=hosts, headers=auth, expect=200)
    check("the hosts line is stored", "198.18.0.7 conformance.home.test" in body["config"]["dns"]["hosts"], body)
    client.call("delete_array_item", path={**hosts, "value": "198.18.0.7 conformance.home.test"}, headers=auth, expect=204)
    client.call("get_config_elem", path=hosts, expect=401)

    # Unknown API path: FTL's JSON 404 envelope, the path as hint (src/api/api.c; API-FACTS §A.1).
    status, body = client.raw_get("/no/such/endpoint", headers=auth)
    check("unknown path: 404 not_found envelope", status == 404 and body and body["error"]["key"] == "not_found"
          and body["error"]["hint"] == "/api/no/such/endpoint", (status, body))

    # A restart (action.yaml): answered, then the API is away for a while, then back.
    client.call("action_restartdns", headers=auth, expect=200)
    time.sleep(0.3)
    away = not client.answers()
    check("the API is away during the restart", away)
    check("the API answers again after the restart", client.wait_until_up())
    client.call("get_auth", headers=auth, expect=200)

    # Sessions: a second one deleted by id, then a logout.
    status, body, _ = client.call("add_auth", body={"password": args.password}, expect=200)
    second = body["session"]["sid"]
    status, body, _ = client.call("get_auth_sessions", headers={"X-FTL-SID": second}, expect=200)
    mine = [s["id"] for s in body["sessions"] if s.get("current_session")]
    check("the second session lists itself", len(mine) == 1, body)
    client.call("delete_auth_session", path={"id": mine[0]}, headers=auth, expect=204)
    client.call("get_auth", headers={"X-FTL-SID": second}, expect=401)
    status, body, _ = client.call("delete_auth_session", path={"id": mine[0]}, headers=auth, expect=400)
    client.call("delete_groups", headers=auth, expect=204)  # DELETE /auth: the operationId the spec gives it
    client.call("get_auth", headers=auth, expect=401)

    print(f"{client.passed} passed, {client.failed} failed")
    return 1 if client.failed else 0


if __name__ == "__main__":
    sys.exit(main())
