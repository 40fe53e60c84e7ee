"""The official Cloudflare Python SDK (cloudflare 4.3.1, Tests/Conformance/requirements.txt) against
the Lab's Cloudflare simulator. Run by Tests/Conformance/ConformanceTests.swift with the simulator's
base URL, token, account, zone and tunnel in the environment; exits 0 when every check passed, 1
with the failed check on stderr.

The SDK's own models are the reference: every answer is validated against them with pydantic
(`TypeAdapter.validate_python`, not the SDK's lenient `construct`), so a required field missing or
a value the model cannot take fails here. A check that disagrees with the simulator means the
simulator is wrong.
"""

import os
import sys

import cloudflare
from cloudflare import Cloudflare
from cloudflare.types.dns.record_response import RecordResponse
from cloudflare.types.dns.record_batch_response import RecordBatchResponse
from cloudflare.types.shared.response_info import ResponseInfo
from cloudflare.types.user.token_verify_response import TokenVerifyResponse as UserTokenVerify
from cloudflare.types.accounts.token_verify_response import TokenVerifyResponse as AccountTokenVerify
from cloudflare.types.zones.zone import Zone
from cloudflare.types.zero_trust.tunnels.cloudflared_get_response import CloudflaredGetResponse
from cloudflare.types.zero_trust.tunnels.cloudflared.client import Client as TunnelClient
from pydantic import TypeAdapter

BASE = os.environ["CF_BASE_URL"]
TOKEN = os.environ["CF_TOKEN"]
ACCOUNT = os.environ["CF_ACCOUNT_ID"]
ZONE = os.environ["CF_ZONE"]
TUNNEL = os.environ["CF_TUNNEL_ID"]

# No retries: a simulator error must show, not be retried away.
cf = Cloudflare(api_token=TOKEN, base_url=BASE, max_retries=0)


def strict(model, value):
    """Validates `value` (plain JSON) against an SDK model; raises when the model cannot take it."""
    return TypeAdapter(model).validate_python(value, strict=False)


def raw(response):
    """The JSON body of a `with_raw_response` call."""
    return response.http_response.json()


def check(condition, what):
    if not condition:
        raise AssertionError(what)


checks = 0


def passed(name):
    global checks
    checks += 1
    print(f"ok {name}")


# --- tokens ---------------------------------------------------------------------------------
body = raw(cf.user.tokens.with_raw_response.verify())
verified = strict(UserTokenVerify, body["result"])
check(verified.status == "active", f"user token status {verified.status}")
passed("user.tokens.verify")
body = raw(cf.accounts.tokens.with_raw_response.verify(account_id=ACCOUNT))
check(strict(AccountTokenVerify, body["result"]).status == "active", "account token status")
passed("accounts.tokens.verify")
try:
    Cloudflare(api_token="not-a-token", base_url=BASE, max_retries=0).user.tokens.verify()
    raise AssertionError("an unknown token was verified")
except cloudflare.PermissionDeniedError as error:
    codes = [strict(ResponseInfo, item).code for item in error.response.json()["errors"]]
    check(codes == [9109], f"unknown token codes {codes}")
    passed("unknown token: 403 with ResponseInfo errors")

# --- zones ----------------------------------------------------------------------------------
zones = list(cf.zones.list(name=ZONE))
check([z.name for z in zones] == [ZONE], f"zones.list(name=) gave {[z.name for z in zones]}")
for item in raw(cf.zones.with_raw_response.list())["result"]:
    strict(Zone, item)
zone_id = zones[0].id
strict(Zone, raw(cf.zones.with_raw_response.get(zone_id=zone_id))["result"])
passed("zones list/get")

records = cf.dns.records
A = RecordResponse

# --- records CRUD and what the API normalises -----------------------------------------------
created = strict(A, raw(records.with_raw_response.create(
    zone_id=zone_id, name=f"WWW.{ZONE}", type="A", content="198.18.0.1", ttl=300, proxied=True,
    comment="made by the SDK", tags=["owner:netagent", "env:lab"]))["result"])
check(created.name == f"www.{ZONE}", f"name not lower-cased: {created.name}")
check(created.ttl == 1, f"a proxied record keeps TTL {created.ttl}, not 1 (automatic)")
check(created.proxiable is True and created.proxied is True, "proxiable/proxied")
check(created.created_on is not None and created.modified_on is not None, "timestamps")
check(created.comment_modified_on is not None and created.tags_modified_on is not None, "comment/tags modified_on")
passed("records.create (proxied TTL 1, name lower-cased, metadata)")

cname = strict(A, raw(records.with_raw_response.create(
    zone_id=zone_id, name=f"alias.{ZONE}", type="CNAME", content=f"www.{ZONE}.", ttl=120, proxied=False))["result"])
check(cname.content == f"www.{ZONE}", f"CNAME target keeps its dot: {cname.content}")
check(cname.ttl == 120, "a DNS-only record keeps its TTL")
aaaa = strict(A, raw(records.with_raw_response.create(
    zone_id=zone_id, name=f"v6.{ZONE}", type="AAAA", content="2001:DB8:0:0:0:0:0:1", ttl=60))["result"])
check(aaaa.content == "2001:db8::1", f"AAAA not canonical: {aaaa.content}")
txt = strict(A, raw(records.with_raw_response.create(
    zone_id=zone_id, name=f"txt.{ZONE}", type="TXT", content='"heritage=netagent"', ttl=1))["result"])
passed("records.create (CNAME without dot, AAAA canonical)")

got = strict(A, raw(records.with_raw_response.get(dns_record_id=cname.id, zone_id=zone_id))["result"])
check(got.id == cname.id and got.content == cname.content, "records.get")
passed("records.get")

edited = strict(A, raw(records.with_raw_response.edit(
    dns_record_id=cname.id, zone_id=zone_id, name=f"alias.{ZONE}", type="CNAME", comment="edited"))["result"])
check(edited.comment == "edited" and edited.ttl == 120 and edited.content == f"www.{ZONE}", "PATCH keeps the fields not sent")
replaced = strict(A, raw(records.with_raw_response.update(
    dns_record_id=cname.id, zone_id=zone_id, name=f"alias.{ZONE}", type="CNAME", content=f"v6.{ZONE}", ttl=600))["result"])
check(replaced.comment is None and replaced.ttl == 600 and replaced.content == f"v6.{ZONE}", "PUT resets the fields not sent")
check(replaced.created_on == cname.created_on, "PUT keeps created_on")
passed("records.edit (PATCH) / records.update (PUT)")

try:
    records.create(zone_id=zone_id, name=f"bad.{ZONE}", type="A", content="198.18.0.2", ttl=60, tags=["no-colon"])
    raise AssertionError("a tag without name:value was accepted")
except cloudflare.BadRequestError as error:
    for item in error.response.json()["errors"]:
        strict(ResponseInfo, item)
    passed("tag validation (name:value)")

deleted = raw(records.with_raw_response.delete(dns_record_id=txt.id, zone_id=zone_id))["result"]
check(deleted == {"id": txt.id}, f"delete answered {deleted}")
try:
    records.get(dns_record_id=txt.id, zone_id=zone_id)
    raise AssertionError("a deleted record was found")
except cloudflare.NotFoundError:
    passed("records.delete")

# --- pagination -----------------------------------------------------------------------------
for i in range(7):
    records.create(zone_id=zone_id, name=f"page{i}.{ZONE}", type="A", content=f"198.18.1.{i}", ttl=60,
                   comment=f"page {i}", tags=[f"page:{i}", "owner:netagent" if i % 2 else "owner:someone-else"])
every = list(records.list(zone_id=zone_id, per_page=3))
names = [r.name for r in every]
check(len(names) == len(set(names)) == 10, f"auto-paging gave {len(names)} records: {names}")
first = records.list(zone_id=zone_id, per_page=3)
check(first.result_info.page == 1 and first.result_info.per_page == 3, "result_info")
body = raw(records.with_raw_response.list(zone_id=zone_id, per_page=4, page=3))
check(len(body["result"]) == 2 and body["result_info"]["total_count"] == 10 and body["result_info"]["total_pages"] == 3,
      f"page 3 of 4: {body['result_info']}")
for item in body["result"]:
    strict(A, item)
passed("pagination (auto-paging iterator, result_info)")


# --- list filters ---------------------------------------------------------------------------
def names_of(**params):
    return sorted(r.name for r in records.list(zone_id=zone_id, **params))


check(names_of(name={"exact": f"PAGE1.{ZONE}"}) == [f"page1.{ZONE}"], "name.exact is case-insensitive")
check(names_of(name={"startswith": "page"}) == sorted(f"page{i}.{ZONE}" for i in range(7)), "name.startswith")
check(names_of(name={"contains": "age3"}) == [f"page3.{ZONE}"], "name.contains")
check(names_of(name={"endswith": f"v6.{ZONE}"}) == [f"v6.{ZONE}"], "name.endswith")
check(names_of(type="AAAA") == [f"v6.{ZONE}"], "type")
check(names_of(type="CNAME", name={"exact": f"alias.{ZONE}"}) == [f"alias.{ZONE}"], "type and name")
check(names_of(content={"exact": "198.18.1.4"}) == [f"page4.{ZONE}"], "content.exact")
check(names_of(content={"startswith": "2001:DB8"}) == [f"v6.{ZONE}"], "content.startswith, case-insensitive")
check(names_of(comment={"exact": "PAGE 2"}) == [f"page2.{ZONE}"], "comment.exact")
check(names_of(comment={"contains": "page"}) == sorted(f"page{i}.{ZONE}" for i in range(7)), "comment.contains")
check(names_of(comment={"absent": "absent"}) == sorted([f"alias.{ZONE}", f"v6.{ZONE}"]), "comment.absent")
check(names_of(tag={"exact": "page:5"}) == [f"page5.{ZONE}"], "tag.exact")
owned = sorted([f"page{i}.{ZONE}" for i in range(7) if i % 2] + [f"www.{ZONE}"])
check(names_of(tag={"exact": "OWNER:netagent"}) == owned, "tag.exact, tag name case-insensitive")
check(names_of(tag={"startswith": "owner:some"}) == sorted(f"page{i}.{ZONE}" for i in range(0, 7, 2)), "tag.startswith")
check(names_of(tag={"present": "env"}) == [f"www.{ZONE}"], "tag.present")
check(len(names_of(tag={"absent": "page"})) == 3, "tag.absent")
check(names_of(name={"exact": f"page1.{ZONE}"}, type="AAAA") == [], "match=all (default)")
check(names_of(name={"exact": f"page1.{ZONE}"}, type="AAAA", match="any") == sorted([f"page1.{ZONE}", f"v6.{ZONE}"]), "match=any")
ordered = [r.name for r in records.list(zone_id=zone_id, name={"startswith": "page"}, order="content", direction="desc")]
check(ordered == [f"page{i}.{ZONE}" for i in reversed(range(7))], f"order=content direction=desc: {ordered}")
ordered = [r.name for r in records.list(zone_id=zone_id, order="name", direction="asc")]
check(ordered == sorted(ordered), "order=name")
passed("list filters (name.*, type, content.*, comment.*, tag.*, match, order, direction)")

# --- batch and its rollback -----------------------------------------------------------------
before = {r.id: (r.name, r.content) for r in records.list(zone_id=zone_id)}
page0 = next(r for r in records.list(zone_id=zone_id, name={"exact": f"page0.{ZONE}"}))
page1 = next(r for r in records.list(zone_id=zone_id, name={"exact": f"page1.{ZONE}"}))
try:
    records.batch(zone_id=zone_id,
                  deletes=[{"id": page0.id}],
                  patches=[{"id": page1.id, "content": "198.18.2.1"}],
                  posts=[{"name": f"new.{ZONE}", "type": "A", "content": "198.18.2.2", "ttl": 60},
                         {"name": f"broken.{ZONE}", "type": "A", "content": "not-an-address", "ttl": 60}])
    raise AssertionError("a batch with an invalid record was applied")
except cloudflare.BadRequestError as error:
    errors = [strict(ResponseInfo, item) for item in error.response.json()["errors"]]
    check(errors and errors[0].source is not None and errors[0].source.pointer == "/posts/1",
          f"the failing item's source.pointer: {errors}")
after = {r.id: (r.name, r.content) for r in records.list(zone_id=zone_id)}
check(after == before, "a failed batch changed records (no rollback)")
passed("batch rollback on a failing item (source.pointer)")

result = raw(records.with_raw_response.batch(
    zone_id=zone_id,
    deletes=[{"id": page0.id}],
    patches=[{"id": page1.id, "content": "198.18.2.1", "proxied": True}],
    puts=[{"id": aaaa.id, "name": f"v6.{ZONE}", "type": "AAAA", "content": "2001:db8::2", "ttl": 120}],
    posts=[{"name": f"new.{ZONE}", "type": "A", "content": "198.18.2.2", "ttl": 60}]))["result"]
batch = strict(RecordBatchResponse, result)
check(len(batch.deletes) == 1 and batch.deletes[0].id == page0.id, "batch deletes")
check(batch.patches[0].content == "198.18.2.1" and batch.patches[0].ttl == 1, "batch patch (proxied: TTL 1)")
check(batch.puts[0].content == "2001:db8::2" and batch.puts[0].ttl == 120, "batch put")
check(batch.posts[0].name == f"new.{ZONE}", "batch post")
check(names_of(name={"exact": f"page0.{ZONE}"}) == [], "batch delete applied")
passed("batch (deletes, patches, puts, posts)")

# --- tunnels --------------------------------------------------------------------------------
tunnels = cf.zero_trust.tunnels.cloudflared
body = raw(tunnels.with_raw_response.get(tunnel_id=TUNNEL, account_id=ACCOUNT))["result"]
tunnel = strict(CloudflaredGetResponse, body)
check(tunnel.id == TUNNEL and tunnel.status == "healthy", f"tunnel {tunnel}")
connectors = list(tunnels.connections.get(tunnel_id=TUNNEL, account_id=ACCOUNT))
body = raw(tunnels.connections.with_raw_response.get(tunnel_id=TUNNEL, account_id=ACCOUNT))["result"]
clients = [strict(TunnelClient, item) for item in body]
check(len(connectors) == len(clients) == 1 and len(clients[0].conns) == 2, f"connections {clients}")
check({c.colo_name for c in clients[0].conns} == {"fra08", "ams01"}, "colos")
passed("tunnels get / connections")

print(f"{checks} checks passed")
