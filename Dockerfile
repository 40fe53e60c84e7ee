# netagent's container image. Build: docker build -t netagent:TAG .
#
# Two stages: the Swift 6.3 toolchain on Debian bookworm builds a release binary with
# scripts/build-release: the Swift runtime linked in statically (--static-swift-stdlib), the
# dependencies at the versions in Package.resolved (--force-resolved-versions), the functions
# `netagent run` executes side by side (linker/netagent.order), stripped; the runtime stage is plain
# debian:bookworm-slim with only the C libraries the binary loads. Why not swift:6.3-bookworm-slim
# as the base: it carries the whole shared Swift runtime (~100 MB more) that a statically linked
# binary never loads, and its version would have to move in step with the builder's; with the
# runtime linked in there is nothing to keep in step.
# Deployed by deploy/ (docs/deployment.md): non-root uid 65532, read-only root, NET_RAW only.
# Without Docker, scripts/image builds the same layout (mmdebstrap + umoci) and smoke-tests it;
# keep its package list and runtime steps in step with this file.

FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcurl4-openssl-dev libc-ares-dev libsqlite3-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Tests too: SwiftPM checks every target's folder when it loads Package.swift.
COPY Package.swift Package.resolved ./
COPY Sources ./Sources
COPY Tests ./Tests
# The link reads linker/netagent.order; scripts/build-release is the one release build (the flags that
# give each function its own section, pinned versions, static runtime, stripped).
COPY linker ./linker
COPY scripts/build-release ./scripts/
RUN mkdir -p /out && scripts/build-release --out /out/netagent

FROM debian:bookworm-slim
# libcurl4, libc-ares2, libsqlite3-0: the C libraries behind NetIO and GRDB. ca-certificates:
# the system CAs TLS verification uses (Cloudflare, https Pi-holes, SMTP STARTTLS).
# iputils-arping: the VIP probe runs arping (Sources/NetIO/Probing/ARPProbe.swift); iproute2:
# `ip route get` picks arping's interface. libcap2-bin is installed first so that arping's
# postinst gives it cap_net_raw instead of the setuid bit, which no_new_privs
# (allowPrivilegeEscalation: false) would ignore. It stays: iputils-arping and iproute2 depend on
# it (purging it removed them both, as scripts/image found), and setcap is of no use in the
# container, where CAP_SETFCAP is dropped.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libcap2-bin \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcurl4 libc-ares2 libsqlite3-0 libstdc++6 ca-certificates iputils-arping iproute2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/netagent /usr/local/bin/netagent
# File capabilities, because a non-root process gets a container's added capabilities only in
# its bounding set: netagent's cap_net_raw is for raw ICMP (when ping sockets are off) and, under
# no_new_privs (allowPrivilegeEscalation: false), a child keeps only capabilities its parent
# had, so arping gets its own cap_net_raw only because netagent holds it. Such a binary does not
# start where NET_RAW is dropped from the container: deploy/ adds it.
RUN setcap cap_net_raw+ep /usr/bin/arping \
 && chmod u-s /usr/bin/arping \
 && setcap cap_net_raw+ep /usr/local/bin/netagent \
 && mkdir -p /var/lib/netagent /etc/netagent \
 && chown 65532:65532 /var/lib/netagent
USER 65532:65532
EXPOSE 9099
ENTRYPOINT ["/usr/local/bin/netagent"]
CMD ["run", "--config", "/etc/netagent/netagent.yaml"]
