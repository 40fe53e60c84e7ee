"""The official Kubernetes Python client (kubernetes 37.0.3, Tests/Conformance/requirements.txt)
against the Lab's Kubernetes API simulator. Run by Tests/Conformance/ConformanceTests.swift with
the simulator's URL in KUBE_SERVER (bookmarks every 200 ms, a short wait before the 504 "Too large
resource version", a history of 20 events); exits 0 when every check passed, 1 with the failed
check on stderr.

The client's models are the reference: typed answers (VersionInfo, discovery, Lease) are
deserialized by the client, which raises on a missing required field; custom objects are checked
for what the apiserver writes (kind/apiVersion on list items, metadata.generation). A check that
disagrees with the simulator means the simulator is wrong.
"""

import datetime
import json
import os
import tempfile

from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

configuration = client.Configuration()
configuration.host = os.environ["KUBE_SERVER"]
configuration.client_side_validation = True
api = client.ApiClient(configuration)
custom = client.CustomObjectsApi(api)
G, V, NS = "gateway.networking.k8s.io", "v1", "conformance"

checks = 0


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def passed(name):
    global checks
    checks += 1
    print(f"ok {name}")


def status_of(error):
    return json.loads(error.body)


# --- /version and discovery -----------------------------------------------------------------
info = client.VersionApi(api).get_code()
check(info.major == "1" and info.git_version.startswith("v1."), f"version {info}")
groups = client.ApisApi(api).get_api_versions()
check(G in [g.name for g in groups.groups] and "coordination.k8s.io" in [g.name for g in groups.groups], "APIGroupList")
check(client.CoreApi(api).get_api_versions().versions == ["v1"], "APIVersions")
lease_resources = client.CoordinationV1Api(api).get_api_resources()
check([r.name for r in lease_resources.resources] == ["leases"] and lease_resources.resources[0].kind == "Lease", "coordination.k8s.io/v1")
check(client.CoordinationApi(api).get_api_group().preferred_version.group_version == "coordination.k8s.io/v1", "APIGroup")
dynamic = DynamicClient(api, cache_file=os.path.join(tempfile.mkdtemp(), "discovery.json"))
for kind in ["Gateway", "HTTPRoute", "GRPCRoute"]:
    resource = dynamic.resources.get(api_version=f"{G}/{V}", kind=kind)
    check(resource.namespaced and "watch" in resource.verbs, f"discovery of {kind}")
passed("/version, /api, /apis, /apis/GROUP, /apis/GROUP/VERSION (DynamicClient discovery)")


# --- create, list with kind/apiVersion, generation ------------------------------------------
def make(plural, kind, name, labels, spec):
    return custom.create_namespaced_custom_object(G, V, NS, plural, {
        "apiVersion": f"{G}/{V}", "kind": kind,
        "metadata": {"name": name, "namespace": NS, "labels": labels}, "spec": spec})


gw = make("gateways", "Gateway", "gw-a", {"app": "web"},
          {"gatewayClassName": "cilium", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]})
check(gw["metadata"]["generation"] == 1 and gw["metadata"]["resourceVersion"], f"created {gw['metadata']}")
make("gateways", "Gateway", "gw-b", {"app": "api", "canary": "true"},
     {"gatewayClassName": "cilium", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]})
make("httproutes", "HTTPRoute", "web", {"app": "web"},
     {"parentRefs": [{"name": "gw-a"}], "hostnames": ["web.example.test"]})
make("grpcroutes", "GRPCRoute", "rpc", {"app": "api"},
     {"parentRefs": [{"name": "gw-b"}], "hostnames": ["rpc.example.test"]})
for plural, kind, count in [("gateways", "Gateway", 2), ("httproutes", "HTTPRoute", 1), ("grpcroutes", "GRPCRoute", 1)]:
    listed = custom.list_namespaced_custom_object(G, V, NS, plural)
    check(listed["kind"] == f"{kind}List" and listed["metadata"]["resourceVersion"], f"{plural} list")
    check(len(listed["items"]) == count, f"{plural}: {len(listed['items'])} items")
    for item in listed["items"]:
        check(item.get("kind") == kind and item.get("apiVersion") == f"{G}/{V}", f"list item without kind/apiVersion: {item}")
check(len(custom.list_cluster_custom_object(G, V, "gateways")["items"]) == 2, "cluster-wide list")
passed("create and list of Gateways, HTTPRoutes, GRPCRoutes (kind/apiVersion on items)")

patched = custom.patch_namespaced_custom_object(G, V, NS, "gateways", "gw-a", {"metadata": {"labels": {"tier": "edge"}}})
check(patched["metadata"]["generation"] == 1 and patched["metadata"]["labels"] == {"app": "web", "tier": "edge"},
      f"a metadata-only merge patch: {patched['metadata']}")
patched = custom.patch_namespaced_custom_object(G, V, NS, "gateways", "gw-a", {"spec": {"gatewayClassName": "envoy"}})
check(patched["metadata"]["generation"] == 2 and patched["spec"]["listeners"][0]["port"] == 80, "a spec merge patch")
try:
    custom.patch_namespaced_custom_object(G, V, NS, "gateways", "gw-a", {"spec": {}},
                                          _content_type="application/strategic-merge-patch+json")
    raise AssertionError("a strategic merge patch of a custom resource was accepted")
except ApiException as error:
    check(error.status == 415 and status_of(error)["reason"] == "UnsupportedMediaType", f"strategic merge on a CRD: {error.status}")
passed("merge patch, metadata.generation, 415 for strategic merge on a custom resource")

# --- selectors ------------------------------------------------------------------------------


def names(plural="gateways", **selectors):
    return sorted(i["metadata"]["name"] for i in custom.list_namespaced_custom_object(G, V, NS, plural, **selectors)["items"])


check(names(label_selector="app=web") == ["gw-a"], "label =")
check(names(label_selector="app in (web,api)") == ["gw-a", "gw-b"], "label in")
check(names(label_selector="!canary") == ["gw-a"], "label !")
check(names(label_selector="app!=web") == ["gw-b"], "label !=")
check(names(label_selector="app,tier=edge") == ["gw-a"], "label exists, and")
check(names(field_selector="metadata.name=gw-b") == ["gw-b"], "field metadata.name")
check(names(field_selector="metadata.namespace!=conformance") == [], "field metadata.namespace")
try:
    names(field_selector="spec.gatewayClassName=envoy")
    raise AssertionError("an unsupported field selector was accepted")
except ApiException as error:
    check(error.status == 400, f"unsupported field selector: {error.status}")
passed("labelSelector and fieldSelector on lists")

# --- watch: resourceVersion, bookmarks, selectors -------------------------------------------
listed = custom.list_namespaced_custom_object(G, V, NS, "httproutes")
version = listed["metadata"]["resourceVersion"]
custom.patch_namespaced_custom_object(G, V, NS, "httproutes", "web", {"spec": {"hostnames": ["www.example.test"]}})
make("httproutes", "HTTPRoute", "docs", {"app": "docs"}, {"parentRefs": [{"name": "gw-a"}]})
custom.delete_namespaced_custom_object(G, V, NS, "httproutes", "docs")
seen, bookmark = [], None
w = watch.Watch()
for event in w.stream(custom.list_namespaced_custom_object, G, V, NS, "httproutes", resource_version=version,
                      allow_watch_bookmarks=True, timeout_seconds=10):
    if event["type"] == "BOOKMARK":
        bookmark = event["raw_object"]["metadata"]["resourceVersion"]
        w.stop()
        break
    seen.append((event["type"], event["raw_object"]["metadata"]["name"]))
check(seen == [("MODIFIED", "web"), ("ADDED", "docs"), ("DELETED", "docs")], f"watch from a version: {seen}")
check(bookmark is not None and int(bookmark) > int(version), f"no BOOKMARK after the events (bookmark {bookmark})")
passed("watch from resourceVersion, periodic BOOKMARK with allowWatchBookmarks")

version = custom.list_namespaced_custom_object(G, V, NS, "gateways")["metadata"]["resourceVersion"]
custom.patch_namespaced_custom_object(G, V, NS, "gateways", "gw-b", {"metadata": {"labels": {"app": "web"}}})
custom.patch_namespaced_custom_object(G, V, NS, "gateways", "gw-a", {"metadata": {"labels": {"app": "legacy"}}})
seen = []
for event in watch.Watch().stream(custom.list_namespaced_custom_object, G, V, NS, "gateways", resource_version=version,
                                  label_selector="app=web", timeout_seconds=1):
    seen.append((event["type"], event["raw_object"]["metadata"]["name"]))
check(seen == [("ADDED", "gw-b"), ("DELETED", "gw-a")], f"watch with a selector: {seen}")
passed("labelSelector on a watch (objects entering and leaving it)")

# --- 504 too large, 410 gone and relist -----------------------------------------------------
current = int(custom.list_namespaced_custom_object(G, V, NS, "gateways")["metadata"]["resourceVersion"])
for attempt in ["list", "watch"]:
    try:
        if attempt == "list":
            custom.list_namespaced_custom_object(G, V, NS, "gateways", resource_version=str(current + 1000))
        else:
            list(watch.Watch().stream(custom.list_namespaced_custom_object, G, V, NS, "gateways",
                                      resource_version=str(current + 1000), timeout_seconds=1))
        raise AssertionError(f"a {attempt} from a future resourceVersion was answered")
    except ApiException as error:
        body = status_of(error)
        check(error.status == 504 and body["reason"] == "Timeout" and "Too large resource version" in body["message"],
              f"{attempt}: {error.status} {body}")
        check(body["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge", f"cause: {body}")
passed("504 Too large resource version (list and watch)")

old = version
for i in range(25):  # more than the history the simulator keeps: `old` is compacted away
    custom.patch_namespaced_custom_object(G, V, NS, "grpcroutes", "rpc", {"metadata": {"annotations": {"n": str(i)}}})
try:
    list(watch.Watch().stream(custom.list_namespaced_custom_object, G, V, NS, "gateways", resource_version=old,
                              timeout_seconds=1))
    raise AssertionError("a watch from a compacted version was answered")
except ApiException as error:
    check(error.status == 410, f"compacted version: {error.status} {error.reason}")
relisted = custom.list_namespaced_custom_object(G, V, NS, "gateways")
fresh = relisted["metadata"]["resourceVersion"]
custom.patch_namespaced_custom_object(G, V, NS, "gateways", "gw-b", {"spec": {"gatewayClassName": "envoy"}})
seen = [(e["type"], e["raw_object"]["metadata"]["name"]) for e in watch.Watch().stream(
    custom.list_namespaced_custom_object, G, V, NS, "gateways", resource_version=fresh, timeout_seconds=1)]
check(seen == [("MODIFIED", "gw-b")], f"watch after the relist: {seen}")
passed("410 Gone and relist")

# --- Lease in coordination.k8s.io/v1 --------------------------------------------------------
leases = client.CoordinationV1Api(api)
# The client writes a datetime with isoformat(), which leaves out a zero fraction; the apiserver
# reads MicroTime with exactly six fractional digits (LeaseValidation), so the times here have a
# fraction, as a leader elector's clock readings do.
start = datetime.datetime(2026, 1, 1, 0, 0, 0, 250000, tzinfo=datetime.timezone.utc)
lease = leases.create_namespaced_lease(NS, client.V1Lease(
    metadata=client.V1ObjectMeta(name="netagent-leader"),
    spec=client.V1LeaseSpec(holder_identity="pod-a", lease_duration_seconds=15, acquire_time=start, renew_time=start,
                            lease_transitions=0)))
check(isinstance(lease, client.V1Lease) and lease.spec.holder_identity == "pod-a", "Lease create")
lease.spec.holder_identity = "pod-b"
lease.spec.lease_transitions = 1
lease.spec.acquire_time = lease.spec.renew_time = start + datetime.timedelta(seconds=5)
replaced = leases.replace_namespaced_lease("netagent-leader", NS, lease)
check(replaced.spec.holder_identity == "pod-b" and replaced.metadata.resource_version != lease.metadata.resource_version,
      "Lease replace")
try:
    leases.replace_namespaced_lease("netagent-leader", NS, lease)  # the old resourceVersion
    raise AssertionError("a stale replace was accepted")
except ApiException as error:
    check(error.status == 409 and status_of(error)["reason"] == "Conflict", f"stale replace: {error.status}")
renewed = leases.patch_namespaced_lease("netagent-leader", NS, {"spec": {"renewTime": "2026-01-01T00:00:10.000000Z"}})
check(renewed.spec.holder_identity == "pod-b" and renewed.spec.renew_time.second == 10, "Lease strategic merge patch")
renewed = leases.patch_namespaced_lease("netagent-leader", NS, [{"op": "replace", "path": "/spec/holderIdentity", "value": "pod-c"}])
check(renewed.spec.holder_identity == "pod-c", "Lease JSON patch")
renewed = leases.patch_namespaced_lease("netagent-leader", NS, {"spec": {"leaseDurationSeconds": 30}},
                                        _content_type="application/merge-patch+json")
check(renewed.spec.lease_duration_seconds == 30 and renewed.spec.holder_identity == "pod-c", "Lease merge patch")
try:
    leases.patch_namespaced_lease("netagent-leader", NS, {"spec": {"leaseDurationSeconds": 0}},
                                  _content_type="application/merge-patch+json")
    raise AssertionError("an invalid Lease was accepted")
except ApiException as error:
    check(error.status == 422, f"invalid Lease: {error.status}")
passed("Lease create/replace/patch in coordination.k8s.io/v1")

print(f"{checks} checks passed")
