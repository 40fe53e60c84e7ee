import Foundation
import Glibc
import Lab
import NetIO

/// `netagent run` as a process against the Lab, for scripts/bench-daemon:
///
/// - `daemon-latency --netagent PATH [--changes N]`: N routes created one after another in the
///   Kubernetes API simulator; for each, the time until the Pi-hole simulator's dnsmasq answers
///   its name. The agent runs with the default `reconcile.debounce` (500 ms).
/// - `daemon-footprint --netagent PATH [--routes N] [--idle-seconds S]`: N routes in the
///   simulator, reconciled into the Cloudflare simulator (record + TXT each); once converged,
///   the agent's VmHWM and steady VmRSS, then its CPU time (utime + stime) over S idle seconds
///   with a `nodes` probe every 30 s.
///
/// Each prints one JSON line.
enum DaemonBench {
    static func options(_ arguments: [String], _ defaults: [String: String], usage: String) throws -> [String: String] {
        var values = defaults
        var index = 0
        while index + 1 < arguments.count {
            guard values[arguments[index]] != nil else { throw BenchError(usage) }
            values[arguments[index]] = arguments[index + 1]
            index += 2
        }
        guard index == arguments.count, values["--netagent"] != "" else { throw BenchError(usage) }
        return values
    }

    static func latency(_ arguments: [String]) async throws {
        let usage = "usage: netagent-bench daemon-latency --netagent PATH [--changes N]"
        let values = try options(arguments, ["--netagent": "", "--changes": "100"], usage: usage)
        guard let changes = Int(values["--changes"]!), changes > 0 else { throw BenchError(usage) }
        let kube = try await seededCluster()
        let pihole = try PiholeSimulator(.benchmark)
        let samples = try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                let folder = try temporaryFolder("latency")
                let config = try writeConfig(folder: folder, kubeURL: kubeURL, provider: """
                      - name: pihole
                        type: pihole
                        url: \(piholeURL)
                        passwordEnv: BENCH_PIHOLE_PASSWORD
                        select: { domainFilters: [home.test] }
                    """, probes: "")
                return try await withAgent(values["--netagent"]!, config: config) { _ in
                    var samples: [Double] = []
                    let resolver = Resolver(options: .init(timeout: .milliseconds(200)))
                    defer { resolver.shutdown() }
                    let server = try DNSServer(parsing: pihole.dnsAddress)
                    func answers(_ name: String) async -> Bool {
                        (try? await resolver.query(name, type: .a, server: server).records.isEmpty == false) ?? false
                    }
                    // The agent is up once the first route's record answers.
                    try await until("the first record", timeout: .seconds(60)) { await answers("r0.home.test") }
                    for i in 1...changes {
                        let name = "r\(i).home.test"
                        let start = ContinuousClock.now
                        _ = try await kube.create(.httpRoutes, json: routeJSON("r\(i)", host: name))
                        try await until(name, timeout: .seconds(30)) { await answers(name) }
                        samples.append((ContinuousClock.now - start).milliseconds)
                    }
                    return samples
                }
            }
        }
        let sorted = samples.sorted()
        try printJSON(["changes": changes, "p50Ms": percentile(sorted, 0.50), "p99Ms": percentile(sorted, 0.99),
                       "minMs": sorted.first ?? 0, "maxMs": sorted.last ?? 0])
    }

    static func footprint(_ arguments: [String]) async throws {
        let usage = "usage: netagent-bench daemon-footprint --netagent PATH [--routes N] [--idle-seconds S]"
        let values = try options(arguments, ["--netagent": "", "--routes": "10000", "--idle-seconds": "60"], usage: usage)
        guard let routes = Int(values["--routes"]!), routes > 0, let idle = Int(values["--idle-seconds"]!), idle > 0 else {
            throw BenchError(usage)
        }
        let kube = try await seededCluster()
        for i in 1..<routes { _ = try await kube.create(.httpRoutes, json: routeJSON("r\(i)", host: "r\(i).home.test")) }
        let zone = SimulatedZone(name: "home.test")
        var options = CloudflareSimulator.Options(zones: [zone])
        options.batchLimit = 3500
        let cloudflare = CloudflareSimulator(options)
        let measured = try await kube.withRunning { kubeURL in
            try await cloudflare.withRunning { cloudflareURL in
                let folder = try temporaryFolder("footprint")
                let kubePort = URLComponents(string: kubeURL)?.port ?? 0
                let config = try writeConfig(folder: folder, kubeURL: kubeURL, provider: """
                      - name: cloudflare
                        type: cloudflare
                        apiURL: \(cloudflareURL)
                        apiTokenEnv: BENCH_CLOUDFLARE_TOKEN
                        zones: [home.test]
                        batchChunkSize: 3500
                        select: { domainFilters: [home.test] }
                    """, probes: """
                    probes:
                      interval: 30s
                      nodes: { tcpPorts: [\(kubePort)], icmp: false }
                    """)
                return try await withAgent(values["--netagent"]!, config: config) { pid in
                    var result = Footprint()
                    let start = ContinuousClock.now
                    try await until("\(routes) A records in Cloudflare", timeout: .seconds(600)) {
                        await cloudflare.records(zoneID: zone.id).count(where: { $0.type == "A" }) == routes
                    }
                    result.convergeSeconds = (ContinuousClock.now - start).seconds
                    // Steady: three samples 5 s apart after the write; the last is reported, all are kept.
                    var rss: [Int] = []
                    for _ in 0..<3 {
                        try await Task.sleep(for: .seconds(5))
                        rss.append(try status(pid)["VmRSS"] ?? 0)
                    }
                    let (ticks0, at0) = (try cpuTicks(pid), ContinuousClock.now)
                    try await Task.sleep(for: .seconds(idle))
                    let (ticks1, at1) = (try cpuTicks(pid), ContinuousClock.now)
                    let fields = try status(pid)
                    let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
                    let cpuSeconds = Double(ticks1 - ticks0) / hz
                    result.vmHWM = fields["VmHWM"] ?? 0
                    result.vmRSS = rss
                    result.vmRSSAfterIdle = fields["VmRSS"] ?? 0
                    result.idleCPUSeconds = cpuSeconds
                    result.idleCPUPercent = cpuSeconds / (at1 - at0).seconds * 100
                    result.threads = fields["Threads"] ?? 0
                    result.rssAnon = fields["RssAnon"] ?? 0
                    result.rssFile = fields["RssFile"] ?? 0
                    result.rssByPart = try rssByPart(pid)
                    return result
                }
            }
        }
        try printJSON(["routes": routes, "idleSeconds": idle, "convergeSeconds": measured.convergeSeconds,
                       "vmHWMKiB": measured.vmHWM, "vmRSSKiB": measured.vmRSS.last ?? 0, "vmRSSSamplesKiB": measured.vmRSS,
                       "vmRSSAfterIdleKiB": measured.vmRSSAfterIdle, "idleCPUSeconds": measured.idleCPUSeconds,
                       "idleCPUPercent": measured.idleCPUPercent, "threads": measured.threads,
                       "rssAnonKiB": measured.rssAnon, "rssFileKiB": measured.rssFile, "rssByPartKiB": measured.rssByPart])
    }

    struct Footprint: Sendable {
        var convergeSeconds = 0.0
        var vmHWM = 0
        var vmRSS: [Int] = []
        var vmRSSAfterIdle = 0
        var idleCPUSeconds = 0.0
        var idleCPUPercent = 0.0
        var threads = 0
        /// After the idle time: anonymous memory (the heap) and mapped files (code, ICU data).
        var rssAnon = 0
        var rssFile = 0
        /// `rssByPart`'s breakdown after the idle time.
        var rssByPart: [String: Int] = [:]
    }

    // MARK: - The agent as a process

    /// Starts `netagent run --config config`, runs `body` with its pid, then SIGTERM (SIGKILL
    /// after 10 s) and removes its output files.
    static func withAgent<T>(_ netagent: String, config: String, _ body: (pid_t) async throws -> T) async throws -> T {
        var environment = ProcessInfo.processInfo.environment
        environment["BENCH_PIHOLE_PASSWORD"] = "pihole-lab-password"
        environment["BENCH_CLOUDFLARE_TOKEN"] = "lab-token"
        let agent = try SpawnedProcess.start(netagent, ["run", "--config", config, "--log-level", "warning"],
                                             environment: environment, separateStderr: true)
        defer { agent.removeFiles() }
        func stop() async {
            agent.kill(SIGTERM)
            for _ in 0..<500 {
                if agent.exitStatusIfEnded() != nil { return }
                try? await Task.sleep(for: .milliseconds(20))
            }
            agent.kill(SIGKILL)
            _ = agent.wait()
        }
        do {
            let result = try await body(agent.pid)
            await stop()
            return result
        } catch {
            await stop()
            throw BenchError("\(error)\nnetagent's output: \(agent.output.suffix(2000))\(agent.errorOutput.suffix(2000))")
        }
    }

    static func writeConfig(folder: URL, kubeURL: String, provider: String, probes: String) throws -> String {
        let kubeconfig = folder.appendingPathComponent("kubeconfig")
        try """
            apiVersion: v1
            kind: Config
            clusters: [{ name: lab, cluster: { server: "\(kubeURL)" } }]
            users: [{ name: lab, user: {} }]
            contexts: [{ name: lab, context: { cluster: lab, user: lab } }]
            current-context: lab
            """.write(to: kubeconfig, atomically: true, encoding: .utf8)
        let port = try LoopbackPort.free(udp: false)
        let file = folder.appendingPathComponent("netagent.yaml")
        try """
            cluster:
              name: bench
              network: 127.0.0.0/8
              nodes:
                - { name: n1, address: 127.0.0.1 }
            sources:
              kubernetes: { kubeconfig: \(kubeconfig.path) }
            providers:
            \(provider)
            state:
              path: \(folder.appendingPathComponent("state.sqlite").path)
            server:
              listen: 127.0.0.1:\(port)
            \(probes)
            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    // MARK: - The cluster

    /// The `envoy-internal` Gateway (`*.home.test` on 198.18.0.50) and a first route, `r0`.
    static func seededCluster() async throws -> KubeAPISimulator {
        let kube = KubeAPISimulator()
        for namespace in ["network", "apps"] {
            _ = try await kube.create(.namespaces, json: #"{"metadata":{"name":"\#(namespace)"}}"#)
        }
        _ = try await kube.create(.gateways, json: """
            {"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway",
             "metadata":{"name":"envoy-internal","namespace":"network"},
             "spec":{"gatewayClassName":"envoy","listeners":[{"name":"https","port":443,"protocol":"HTTPS",
               "hostname":"*.home.test","allowedRoutes":{"namespaces":{"from":"All"}}}]},
             "status":{"addresses":[{"type":"IPAddress","value":"198.18.0.50"}]}}
            """)
        _ = try await kube.create(.httpRoutes, json: routeJSON("r0", host: "r0.home.test"))
        return kube
    }

    /// An accepted HTTPRoute in `apps` on the Gateway.
    static func routeJSON(_ name: String, host: String) -> String {
        """
        {"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute",
         "metadata":{"name":"\(name)","namespace":"apps"},
         "spec":{"parentRefs":[{"name":"envoy-internal","namespace":"network"}],"hostnames":["\(host)"]},
         "status":{"parents":[{"parentRef":{"name":"envoy-internal","namespace":"network"},
           "controllerName":"gateway.envoyproxy.io/gatewayclass-controller",
           "conditions":[{"type":"Accepted","status":"True"}]}]}}
        """
    }

    // MARK: - Measuring

    /// `/proc/PID/status` fields in kB (VmHWM, VmRSS) or counts (Threads).
    static func status(_ pid: pid_t) throws -> [String: Int] {
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let value = Int(parts[1].split(whereSeparator: \.isWhitespace).first ?? "") else { continue }
            fields[String(parts[0])] = value
        }
        return fields
    }

    /// Resident KiB by what is mapped, from `/proc/PID/smaps`: `binary` (the executable's own
    /// file), `swift` (the Swift runtime and Foundation's libraries: libswift*, libFoundation*,
    /// lib_Foundation*, libdispatch, libBlocksRuntime — none in a static build), `c` (every other
    /// shared library: libcurl and what it loads, c-ares, SQLite, glibc), `heap` (anonymous
    /// mappings: malloc's arenas, thread stacks), `other` (the rest: vdso, files). A file's written
    /// data pages (relocated data, .bss) count with that file, so `heap` is less than RssAnon.
    static func rssByPart(_ pid: pid_t) throws -> [String: Int] {
        // Read to EOF: /proc files report size 0, and a read sized by it stops after the first page.
        guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/smaps") else { throw BenchError("unreadable /proc/\(pid)/smaps") }
        defer { try? handle.close() }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
        var parts: [String: Int] = [:]
        var part = "other"
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), fields.count >= 5, !first.hasSuffix(":") {
                let path = fields.count >= 6 ? String(fields[5...].joined(separator: " ")) : ""
                let file = path.split(separator: "/").last.map(String.init) ?? ""
                if path.isEmpty || path == "[heap]" || path.hasPrefix("[stack") || path.hasPrefix("[anon") {
                    part = "heap"
                } else if path == exe {
                    part = "binary"
                } else if ["libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime"].contains(where: file.hasPrefix) {
                    part = "swift"
                } else if file.contains(".so") {
                    part = "c"
                } else {
                    part = "other"
                }
            } else if fields.first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
                parts[part, default: 0] += kib
            }
        }
        return parts
    }

    /// utime + stime of `/proc/PID/stat`, in clock ticks.
    static func cpuTicks(_ pid: pid_t) throws -> Int {
        let text = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // The command name may hold spaces: fields are counted after its closing parenthesis.
        guard let close = text.lastIndex(of: ")") else { throw BenchError("unreadable /proc/\(pid)/stat") }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        guard fields.count > 12, let utime = Int(fields[11]), let stime = Int(fields[12]) else {
            throw BenchError("unreadable /proc/\(pid)/stat")
        }
        return utime + stime
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    static func until(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await !condition() {
            if ContinuousClock.now > deadline { throw BenchError("timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    static func temporaryFolder(_ name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("netagent-bench-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
