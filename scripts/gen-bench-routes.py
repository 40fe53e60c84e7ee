#!/usr/bin/env python3
"""Writes generated HTTPRoutes on 2 Gateways, as a GitOps repository would hold them.

Usage:
  gen-bench-routes.py N FOLDER
      N routes spread over 100 files and 50 namespaces; half use the Gateway with a target
      annotation (CNAME records), half the one with an address (A).
  gen-bench-routes.py --gitops N FOLDER
      N apps twice, with the same records: FOLDER/repo is a Flux repository laid out as
      onedr0p/home-ops is (entry point kubernetes/flux/cluster: its ks.yaml points at
      kubernetes/apps, whose <namespace>/kustomization.yaml lists <app>/ks.yaml, a Flux
      Kustomization with targetNamespace and postBuild.substitute APP for <app>/app, whose
      kustomization lists httproute.yaml naming ${APP}); FOLDER/expanded holds the same routes
      already expanded (namespace set, ${APP} substituted), one file per app.
"""
import os
import subprocess
import sys


def gateways(namespace_line):
    """The two Gateways; `namespace_line` is their metadata.namespace line, or "" when a
    Flux targetNamespace gives it."""
    text = ""
    for name, extra in (("external", "  annotations:\n    external-dns.alpha.kubernetes.io/target: ingress.bench.example\n"),
                        ("internal", "")):
        text += f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: envoy-{name}
{namespace_line}{extra}spec:
  gatewayClassName: envoy
  addresses:
    - type: IPAddress
      value: 198.18.0.{10 if name == "external" else 11}
  listeners:
    - name: http
      protocol: HTTP
      port: 80
      allowedRoutes:
        namespaces:
          from: Same
    - name: https
      protocol: HTTPS
      port: 443
      allowedRoutes:
        namespaces:
          from: All
      tls:
        certificateRefs:
          - kind: Secret
            name: bench-tls
"""
    return text


def route(n, name, namespace_line, host):
    """Route number `n` (which Gateway, TTL and proxied follow from it)."""
    gateway = "envoy-external" if n % 2 == 0 else "envoy-internal"
    ttl = f'\n    external-dns.alpha.kubernetes.io/ttl: "{60 + n % 5 * 60}"' if n % 3 == 0 else ""
    return f"""---
# yaml-language-server: $schema=https://example.invalid/httproute_v1.json
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {name}
{namespace_line}  labels:
    app.kubernetes.io/name: {name}
  annotations:
    external-dns.alpha.kubernetes.io/cloudflare-proxied: "{'true' if n % 2 else 'false'}"{ttl}
spec:
  hostnames:
    - {host}
  parentRefs:
    - name: {gateway}
      namespace: network
      sectionName: https
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /
      backendRefs:
        - name: {name}
          port: 8080
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def flat(count, folder):
    write(os.path.join(folder, "gateways.yaml"), gateways("  namespace: network\n"))
    files = 100
    per_file = (count + files - 1) // files
    n = 0
    for i in range(files):
        text = ""
        for _ in range(per_file):
            if n >= count:
                break
            text += route(n, f"app-{n}", f"  namespace: team-{n % 50}\n", f"app-{n}.bench.example")
            n += 1
        write(os.path.join(folder, f"apps-{i:03d}", "httproutes.yaml"), text)


def flux_kustomization(name, path, namespace, substitute):
    lines = "".join(f"      {key}: {value}\n" for key, value in substitute.items())
    post_build = f"  postBuild:\n    substitute:\n{lines}" if substitute else ""
    return f"""---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 1h
  path: {path}
{post_build}  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  targetNamespace: {namespace}
"""


def kustomization(namespace, resources):
    return ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            + (f"namespace: {namespace}\n" if namespace else "")
            + "resources:\n" + "".join(f"  - {r}\n" for r in resources))


def gitops(count, folder):
    repo, expanded = os.path.join(folder, "repo"), os.path.join(folder, "expanded")
    os.makedirs(repo, exist_ok=True)
    # Flux's paths are relative to the repository's root, found by its .git.
    subprocess.run(["git", "init", "-q", repo], check=True)
    apps = os.path.join(repo, "kubernetes", "apps")
    write(os.path.join(repo, "kubernetes", "flux", "cluster", "ks.yaml"),
          flux_kustomization("cluster-apps", "./kubernetes/apps", "flux-system", {}))
    write(os.path.join(apps, "network", "kustomization.yaml"), kustomization("network", ["./envoy-gateway/ks.yaml"]))
    write(os.path.join(apps, "network", "envoy-gateway", "ks.yaml"),
          flux_kustomization("envoy-gateway", "./kubernetes/apps/network/envoy-gateway/app", "network", {}))
    write(os.path.join(apps, "network", "envoy-gateway", "app", "kustomization.yaml"), kustomization(None, ["./gateways.yaml"]))
    write(os.path.join(apps, "network", "envoy-gateway", "app", "gateways.yaml"), gateways(""))
    write(os.path.join(expanded, "network", "gateways.yaml"), gateways("  namespace: network\n"))
    namespaces = {}
    for n in range(count):
        namespace, name = f"team-{n % 50}", f"app-{n}"
        namespaces.setdefault(namespace, []).append(name)
        base = os.path.join(apps, namespace, name)
        write(os.path.join(base, "ks.yaml"),
              flux_kustomization(name, f"./kubernetes/apps/{namespace}/{name}/app", namespace, {"APP": name}))
        write(os.path.join(base, "app", "kustomization.yaml"), kustomization(None, ["./httproute.yaml"]))
        write(os.path.join(base, "app", "httproute.yaml"), route(n, "${APP}", "", "${APP}.bench.example"))
        write(os.path.join(expanded, namespace, f"{name}.yaml"),
              route(n, name, f"  namespace: {namespace}\n", f"{name}.bench.example"))
    for namespace, names in namespaces.items():
        write(os.path.join(apps, namespace, "kustomization.yaml"), kustomization(namespace, [f"./{name}/ks.yaml" for name in names]))


if __name__ == "__main__":
    if sys.argv[1] == "--gitops":
        gitops(int(sys.argv[2]), sys.argv[3])
    else:
        flat(int(sys.argv[1]), sys.argv[2])
