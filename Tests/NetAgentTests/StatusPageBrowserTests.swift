import Foundation
import Glibc
import Lab
import NetIO
import Testing
import TestSupport

/// `/status` in a real browser: `netagent run` against the Lab (the Kubernetes API simulator,
/// the Pi-hole simulator with its dnsmasq, aiosmtpd as the relay) with a node that refuses its
/// port, a VIP nobody serves and a node marked offline; headless Chromium takes a screenshot
/// and dumps the DOM it rendered.
///
/// `NETAGENT_STATUS_SCREENSHOT=FILE` also copies the screenshot to FILE. `scripts/screenshot-status`
/// sets it and runs this test inside the observer namespace of a `scripts/testbed` whose prefix it
/// passes as `NETAGENT_STATUS_TESTBED`: the nodes and the VIP are then the test bed's, and the VIP
/// is moved from cp1 to cp2 so the page shows a failover.
@Suite(.enabled(if: installed("chromium", "dnsmasq"), "needs chromium and dnsmasq (scripts/setup installs both)"))
struct StatusPageBrowserTests {
    /// A node name no page may take as markup.
    static let hostile = #"n2<script>document.title='pwned'</script>"#

    /// The prefix of the test bed this test runs in, if any.
    static let testbed = ProcessInfo.processInfo.environment["NETAGENT_STATUS_TESTBED"]

    /// The cluster and the node probes: loopback addresses, or the test bed's (scripts/testbed).
    static func cluster(httpPort: Int) -> String {
        guard testbed != nil else {
            return """
                cluster:
                  name: lab
                  network: 127.0.0.0/8
                  vip: 127.0.0.10
                  nodes:
                    - { name: n1, address: 127.0.0.1, role: controlplane }
                    - { name: "\(hostile)", address: 127.0.0.2, role: worker }
                    - { name: n3, address: 127.0.0.3, role: worker, offline: "PSU not working" }
                probes:
                  nodes: { tcpPorts: [\(httpPort)], controlPlanePorts: [], icmp: true, interval: 2s, timeout: 1s }
                  mtu: { expected: 1500, interval: 5s, timeout: 2s }
                  vip: { port: \(httpPort), interval: 1s, timeout: 1s }
                """
        }
        return """
            cluster:
              name: testbed
              network: 198.18.0.0/16
              vip: 198.18.0.10
              mtu: 1500
              nodes:
                - { name: cp1, address: 198.18.0.11, role: controlplane }
                - { name: cp2, address: 198.18.0.12, role: controlplane }
                - { name: cp3, address: 198.18.0.13, role: controlplane }
                - { name: w1, address: 198.18.0.21, role: worker }
                - { name: w2, address: 198.18.0.22, role: worker }
                - { name: w3, address: 198.18.0.23, role: worker }
                - { name: w4, address: 198.18.0.24, role: worker, offline: "PSU not working" }
                - { name: far, address: 198.18.1.31, role: worker }
            probes:
              nodes: { tcpPorts: [50000, 10250], controlPlanePorts: [6443], icmp: true, interval: 2s, timeout: 1s }
              mtu: { expected: 1500, interval: 5s, timeout: 3s }
              vip: { port: 6443, interval: 1s, timeout: 1s }
            """
    }

    static func write(folder: URL, kubeURL: String, piholeURL: String, dns: String, smtpURL: String, httpPort: Int) throws -> String {
        let kubeconfig = try Kubeconfig.write(in: folder, server: kubeURL)
        let parts = dns.split(separator: ":")
        let file = folder.appendingPathComponent("netagent.yaml")
        try """
            \(cluster(httpPort: httpPort))
              dns:
                servers: [{ name: pihole, address: \(parts[0]), port: \(parts[1]) }]
                question: envoy-internal.home.test
            sources:
              kubernetes: { kubeconfig: \(kubeconfig.path) }
            providers:
              - name: pihole
                type: pihole
                urls: [\(piholeURL)]
                passwordEnv: NETAGENT_TEST_PIHOLE_PASSWORD
                select: { domainFilters: [home.test] }
            reconcile: { debounce: 100ms, resync: 1h }
            alerting:
              smtp: { url: "\(smtpURL)", from: netagent@home.test, to: [owner@home.test], starttls: none }
              for: 0s
            state:
              path: \(folder.appendingPathComponent("state.sqlite").path)
            server:
              listen: 127.0.0.1:\(httpPort)
            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// Width and height from a PNG's header; nil when `data` is not a PNG.
    static func pngSize(_ data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
              bytes[12..<16] == [0x49, 0x48, 0x44, 0x52] else { return nil }
        let word = { (at: Int) in bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }

    @Test("the page shows the grid, the VIP, the DNS target, an open alert and its mail; the browser renders every part")
    func pageInABrowser() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let folder = try Repository.temporaryFolder("status-page")
        let (kube, pihole) = try await DaemonTests.clusterAndPihole()
        let smtp = try await SMTPSink()
        try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                let port = try freeLoopbackPort()
                let config = try Self.write(folder: folder, kubeURL: kubeURL, piholeURL: piholeURL, dns: pihole.dnsAddress,
                                            smtpURL: smtp.url, httpPort: port)
                let agent = try ChildProcess(binary.path, ["run", "--config", config], environment: DaemonTests.environment)
                defer { agent.stop() }
                try await waitForTCP(port: port)
                let url = "http://127.0.0.1:\(port)/status"

                if let prefix = Self.testbed {
                    // A few rounds on cp1, then the VIP moves to cp2: a failover on the timeline.
                    try await eventually("cp1 holds the VIP", timeout: .seconds(30)) {
                        try await DaemonTests.get(url).body.contains("Held by <b>cp1</b>")
                    }
                    try await Task.sleep(for: .seconds(5))
                    var environment = ProcessInfo.processInfo.environment
                    environment["TESTBED_PREFIX"] = prefix
                    let move = try await Netagent.run(Repository.root.appendingPathComponent("scripts/testbed"), ["vip-move", "cp2"],
                                                      environment: environment)
                    #expect(move.status == 0, "\(move.stdout)\(move.stderr)")
                    try await eventually("the failover on the page", timeout: .seconds(30)) {
                        try await DaemonTests.get(url).body.contains("cp1 → cp2")
                    }
                }

                // The failing node alerts at once (`for: 0s`); its mail leaves after the group wait (30s).
                var page = ""
                try await eventually("the alert mailed and the target reconciled", timeout: .seconds(90)) {
                    page = try await DaemonTests.get(url).body
                    return page.contains("✔ delivered") && page.contains("✔ in sync")
                }
                #expect(!smtp.messages().isEmpty)

                let dom = try await Chromium.dumpDOM(url)
                #expect(dom.status == 0, "\(dom.stderr)")
                let html = dom.stdout
                for id in ["nodes", "vip", "dns", "alerts", "mail", "checks", "build"] {
                    #expect(html.contains(#"id="\#(id)""#), "section \(id) missing: \(html)")
                }
                // The DNS target with its owned record, the alert, the mail, the DNS server check.
                #expect(html.contains("pihole \(piholeURL)"))
                #expect(html.contains("✔ in sync"))
                #expect(html.contains("✔ delivered"))
                #expect(html.contains("dns-server"))
                #expect(html.contains("netagent 0."), "build version: \(html)")
                #expect(!html.contains("pihole-lab-password"), "no secret on the page")
                if Self.testbed == nil {
                    // The grid: the live node's port open, the other's refused, the offline one said so.
                    #expect(html.contains("\(port) open"), "\(html)")
                    #expect(html.contains("\(port) refused"), "\(html)")
                    #expect(html.contains("offline: PSU not working"), "\(html)")
                    // The hostile name is text, not a script: the title is untouched.
                    #expect(html.contains("n2&lt;script&gt;document.title='pwned'&lt;/script&gt;"), "\(html)")
                    #expect(html.contains("<title>netagent · lab</title>"), "\(html)")
                    // The VIP nobody serves, and the alerts it and the refusing node raised.
                    #expect(html.contains("VIP 127.0.0.10:\(port)"))
                    #expect(html.contains("down</li>"), "\(html)")
                    #expect(html.contains("vip-down"), "\(html)")
                    #expect(html.contains("node-port") || html.contains("node-down"), "\(html)")
                } else {
                    #expect(html.contains("cp1 → cp2"), "\(html)")
                }

                let png = folder.appendingPathComponent("status.png")
                let height = Self.testbed == nil ? 1300 : 1640
                let shot = try await Chromium.screenshot(url, to: png, width: 1280, height: height)
                #expect(shot.status == 0, "\(shot.stderr)")
                let data = try Data(contentsOf: png)
                let size = try #require(Self.pngSize(data), "not a PNG: \(data.prefix(16).map { $0 })")
                #expect(size.width == 1280 && size.height == height)
                // A rendered page of tables and colour, not a blank or an error page.
                #expect(data.count > 30_000, "\(data.count) bytes")
                if let copy = ProcessInfo.processInfo.environment["NETAGENT_STATUS_SCREENSHOT"] {
                    try? FileManager.default.removeItem(atPath: copy)
                    try FileManager.default.copyItem(at: png, to: URL(fileURLWithPath: copy))
                }
            }
        }
    }
}
