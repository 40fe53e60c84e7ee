#!/usr/bin/env python3
"""Writes N HTTPRoutes on 2 Gateways into a folder, as a GitOps repository would hold them.

Usage: gen-bench-routes.py N FOLDER. Routes are spread over 100 files and 50 namespaces; half
use the Gateway with a target annotation (CNAME records), half the one with an address (A).
"""
import os
import sys

count, folder = int(sys.argv[1]), sys.argv[2]
os.makedirs(folder, exist_ok=True)
with open(os.path.join(folder, "gateways.yaml"), "w") as f:
    for name, extra in (("external", "  annotations:\n    external-dns.alpha.kubernetes.io/target: ingress.bench.example\n"),
                        ("internal", "")):
        f.write(f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: envoy-{name}
  namespace: network
{extra}spec:
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
""")
files = 100
per_file = (count + files - 1) // files
n = 0
for i in range(files):
    path = os.path.join(folder, f"apps-{i:03d}", "httproutes.yaml")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for _ in range(per_file):
            if n >= count:
                break
            gateway = "envoy-external" if n % 2 == 0 else "envoy-internal"
            ttl = f'\n    external-dns.alpha.kubernetes.io/ttl: "{60 + n % 5 * 60}"' if n % 3 == 0 else ""
            f.write(f"""---
# yaml-language-server: $schema=https://example.invalid/httproute_v1.json
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: app-{n}
  namespace: team-{n % 50}
  labels:
    app.kubernetes.io/name: app-{n}
  annotations:
    external-dns.alpha.kubernetes.io/cloudflare-proxied: "{'true' if n % 2 else 'false'}"{ttl}
spec:
  hostnames:
    - app-{n}.bench.example
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
        - name: app-{n}
          port: 8080
""")
            n += 1
