// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// How the two executables are linked (issue 22): lld for pack-relative relocations (DT_RELR: the
// relocation table of a static-stdlib binary shrinks to a bitmap, and so do the dirty pages it
// leaves; glibc ≥ 2.36 reads it: bookworm's) and no dynamic export of Swift symbols (the driver
// passes -export-dynamic; nothing dlsym()s netagent's symbols). The same in every configuration, so
// that the tests, which run the debug `netagent`, test a binary linked this way. BENCHMARKS.md has
// the saving. The functions `netagent run` executes are placed side by side (linker/netagent.order,
// written by scripts/orderfile; a name the build lacks is skipped without a warning): it takes the
// sections scripts/build-release gives each function to move them one by one.
let lean: [LinkerSetting] = [
    .unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic",
                  "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/linker/netagent.order",
                  "-Xlinker", "--no-warn-symbol-ordering"]),
]

let package = Package(
    name: "netagent",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "netagent", targets: ["NetAgentCLI"]),
        .executable(name: "netagent-bench", targets: ["NetAgentBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // Already resolved through Hummingbird; named for the status server's connection guard (NIOCore).
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        // C shims: non-variadic wrappers and macro wrappers only.
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CAres", path: "Sources/CAres", pkgConfig: "libcares",
                       providers: [.apt(["libc-ares-dev"])]),

        // The only Swift module that imports the shims.
        .target(name: "NetIO", dependencies: ["CCurl", "CAres"], swiftSettings: strict),
        // Pure DNS model and planning: no I/O, no clocks.
        .target(name: "DNSCore", swiftSettings: strict),
        // Bounds on YAML input (depth before composing, nodes after), shared by the configuration and the manifests.
        .target(name: "YAMLInput", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: strict),
        // Kubernetes client (Sources/Kube/Client: kubeconfig, in-cluster, list/watch, informers),
        // Gateway API types, the route source and the manifests source.
        .target(name: "Kube", dependencies: [
            "NetIO", "DNSCore", "YAMLInput",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // Providers: each translates plans into one vendor's API.
        .target(name: "Pihole", dependencies: ["NetIO", "DNSCore"], path: "Sources/Providers/Pihole", swiftSettings: strict),
        .target(name: "Cloudflare", dependencies: ["NetIO", "DNSCore"], path: "Sources/Providers/Cloudflare", swiftSettings: strict),
        // Simulators of the peers (Kubernetes API, Cloudflare v4, Pi-hole with its dnsmasq) for tests and `netagent lab`.
        // They do not import the clients they stand in front of; NetIO only for processes and ports.
        .target(name: "Lab", dependencies: [
            "NetIO",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: strict),
        // The probes: one file per kind, the scheduler, the history.
        .target(name: "Probes", dependencies: ["NetIO", "DNSCore"], swiftSettings: strict),
        // What `netagent plan` prints: the records as a table or JSON. The CLI's, in a library of its
        // own so that the fuzz harnesses reach it too (a library cannot depend on an executable).
        .target(name: "PlanOutput", dependencies: ["DNSCore", "Kube"], swiftSettings: strict),
        // The agent's configuration: reading and checking the YAML, nothing that runs. Pure enough
        // for the fuzz harnesses: no NIO, Hummingbird or GRDB.
        .target(name: "Config", dependencies: [
            "DNSCore", "NetIO", "YAMLInput", "Kube", "Probes",
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: strict),
        // What the agent keeps: the SQLite state file (GRDB) and the ConfigMap ledger.
        .target(name: "State", dependencies: [
            "DNSCore", "Kube",
            .product(name: "GRDB", package: "GRDB.swift"),
        ], swiftSettings: strict),
        // Alerts: the engine, the policy, the outbox in the state file, the mail.
        .target(name: "Alerts", dependencies: [
            "Config", "State", "Probes", "DNSCore", "NetIO",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: strict),
        // What the agent tells a person: `check`'s report and causes, the daemon's status, the status page.
        .target(name: "Diagnosis", dependencies: ["Config", "Alerts", "Probes", "DNSCore", "NetIO", "Cloudflare", "Pihole"], swiftSettings: strict),
        // The agent: the one place that wires configuration into sources, targets, probes and
        // alerts, and the daemon's services.
        .target(name: "NetAgent", dependencies: [
            "NetIO", "DNSCore", "Kube", "Pihole", "Cloudflare", "Probes", "Config", "State", "Alerts", "Diagnosis",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
        ], swiftSettings: strict),
        .executableTarget(name: "NetAgentCLI", dependencies: [
            "NetAgent", "Config", "Diagnosis", "NetIO", "DNSCore", "Probes", "Kube", "Lab", "PlanOutput",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict, linkerSettings: lean),

        // Benchmark drivers for scripts/bench-*.
        .executableTarget(name: "NetAgentBench", dependencies: ["NetIO", "DNSCore", "Probes", "Pihole", "Cloudflare", "Lab"], swiftSettings: strict, linkerSettings: lean),

        // Fuzz harnesses (docs/fuzzing.md): built and replayed over Fuzz/Corpus by FuzzTests with
        // the package; the libFuzzer binaries below only when NETAGENT_FUZZ=1 (scripts/fuzz).
        .target(name: "FuzzHarnesses", dependencies: ["Kube", "PlanOutput", "Cloudflare", "Pihole", "Config", "DNSCore", "NetIO", "YAMLInput"], swiftSettings: strict),

        // Helpers the tests share: real servers (dnsmasq, aiosmtpd, an HTTP server) on loopback.
        .target(name: "TestSupport", dependencies: ["NetIO"], path: "Tests/TestSupport"),
        .testTarget(name: "DNSCoreTests", dependencies: ["DNSCore"], swiftSettings: strict),
        .testTarget(name: "NetIOTests", dependencies: ["NetIO", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "KubeClientTests", dependencies: ["Kube", "Lab", "NetIO", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CloudflareTests", dependencies: ["Cloudflare", "Lab", "DNSCore", "NetIO", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PiholeTests", dependencies: ["Pihole", "Lab", "DNSCore", "NetIO", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "ProbesTests", dependencies: ["Probes", "NetIO", "DNSCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "KubeTests", dependencies: ["Kube", "PlanOutput", "DNSCore", "TestSupport", .product(name: "Yams", package: "Yams")], swiftSettings: strict),
        .testTarget(name: "NetAgentTests", dependencies: ["NetAgent", "Config", "State", "Alerts", "Diagnosis", "NetIO", "DNSCore", "Kube", "Cloudflare", "Probes", "Lab", "TestSupport",
                                                   .product(name: "Yams", package: "Yams")], swiftSettings: strict),
        // The alert engine's state machine, the message, and the outbox against a real aiosmtpd.
        // The fault matrix (RELIABILITY.md, scripts/reliability): real faults against the Lab and the built binary.
        .testTarget(name: "FaultMatrixTests", dependencies: ["NetAgent", "Config", "State", "Alerts", "NetIO", "DNSCore", "Lab", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "AlertsTests", dependencies: ["NetAgent", "Config", "State", "Alerts", "Probes", "NetIO", "DNSCore", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: strict),
        // The official Cloudflare SDK and Kubernetes client (Python, .venv-conformance) against the Lab's simulators.
        .testTarget(name: "ConformanceTests", dependencies: ["Lab", "TestSupport"], path: "Tests/Conformance",
                    exclude: ["requirements.txt", "cloudflare_sdk.py", "kube_client.py", "pihole_conformance.py"], swiftSettings: strict),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzHarnesses"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)

if Context.environment["NETAGENT_FUZZ"] == "1" {
    package.products += [
        .executable(name: "netagent-fuzz", targets: ["NetAgentFuzz"]),
    ]
    package.targets += [
        .executableTarget(name: "NetAgentFuzz", dependencies: ["FuzzHarnesses"], swiftSettings: strict),
    ]
}
