import DNSCore
import Foundation
import Lab
import NetIO
import Pihole
import Testing
import TestSupport

/// Issue 16's "Done when": three owned CNAMEs moved to a new target by the built
/// `netagent run --once`, against the Pi-hole simulator with FTL's `dnsmasq --test` gate on
/// every write and a resolver restart that takes the API and dnsmasq away for 2 s.
@Suite(.enabled(if: installed("dnsmasq"), "needs dnsmasq"))
struct PiholeCNAMEMoveTests {
    static let names = ["grafana.home.test", "wiki.home.test", "vault.home.test"]

    /// The `envoy-internal` Gateway with a target annotation: its routes become CNAMEs to `target`.
    static func gateway(target: String) -> String {
        GatewayFixtures.gatewayJSON.replacingOccurrences(
            of: #""metadata":{"name":"envoy-internal","namespace":"network"}"#,
            with: #""metadata":{"name":"envoy-internal","namespace":"network","annotations":{"external-dns.alpha.kubernetes.io/target":"\#(target)"}}"#)
    }

    @Test("moving three owned CNAMEs: one run, one restart, one line per name, the new target answered, the seat given back, the next run idle")
    func threeCNAMEsMoveInOneRun() async throws {
        let binary = try #require(Netagent.binary, "the netagent binary is not built")
        let folder = try Repository.temporaryFolder("cname-move")
        let kube = KubeAPISimulator()
        for namespace in ["network", "apps"] {
            _ = try await kube.create(.namespaces, json: #"{"metadata":{"name":"\#(namespace)"}}"#)
        }
        let gateway = Self.gateway(target: "envoy-internal.home.test")
        #expect(gateway.contains("annotations"), "the fixture's metadata changed: the annotation was not added")
        _ = try await kube.create(.gateways, json: gateway)
        for name in Self.names {
            _ = try await kube.create(.httpRoutes, json: GatewayFixtures.routeJSON(String(name.prefix { $0 != "." }), hosts: [name]))
        }
        var options = PiholeSimulator.Options()
        options.hosts = ["198.18.0.50 envoy-internal.home.test", "198.18.0.60 envoy-external.home.test"]
        #expect(options.restartDowntime == .seconds(2))
        let pihole = try PiholeSimulator(options)
        try await kube.withRunning { kubeURL in
            try await pihole.withRunning { piholeURL in
                let config = try DaemonTests.write(
                    folder: folder, kubeURL: kubeURL, piholeURL: piholeURL, dns: pihole.dnsAddress,
                    httpPort: try freeLoopbackPort(), question: "envoy-internal.home.test")
                func runOnce(_ what: String) async throws {
                    let run = try await Netagent.run(binary, ["run", "--config", config, "--once"], environment: DaemonTests.environment)
                    #expect(run.status == 0, "\(what): \(run.stdout)\(run.stderr)")
                }

                // The first run creates the three CNAMEs.
                try await runOnce("first run")
                #expect(Set(await pihole.cnames()) == Set(Self.names.map { "\($0),envoy-internal.home.test" }))

                // The Gateway's target moves: the run under test.
                _ = try await kube.update(.gateways, json: Self.gateway(target: "envoy-external.home.test"))
                let before = await pihole.counters()
                let writesBefore = await pihole.writes().count
                try await runOnce("the move")
                let moved = await pihole.counters().since(before)
                let writes = Array(await pihole.writes().dropFirst(writesBefore))

                #expect(moved.restarts == 1, "\(writes)")
                #expect(writes.allSatisfy { $0.status == 201 || $0.status == 204 }, "a write was refused: \(writes)")
                #expect(writes.filter { $0.method == "DELETE" }.count == 3)
                #expect(writes.filter { $0.method == "PUT" }.count == 3)
                let cnames = await pihole.cnames()
                #expect(cnames.sorted() == Self.names.map { "\($0),envoy-external.home.test" }.sorted(), "one line per name")
                // The session was given back once the API answered again.
                #expect(moved.logins == 1)
                #expect(moved.logouts == 1)
                #expect(await pihole.activeSessions() == 0)

                // dnsmasq answers the new target.
                let resolver = Resolver(options: .init(timeout: .seconds(1)))
                defer { resolver.shutdown() }
                let server = try DNSServer(parsing: pihole.dnsAddress)
                for name in Self.names {
                    try await eventually("\(name) answered through envoy-external") {
                        let answer = try await resolver.query(name, type: .a, server: server)
                        return answer.cnameChain == ["envoy-external.home.test"] && answer.records.map(\.data) == [.a("198.18.0.60")]
                    }
                }

                // The next run has nothing to do.
                let idleBefore = await pihole.writes().count
                let countersBefore = await pihole.counters()
                try await runOnce("the idle run")
                let idleWrites = Array(await pihole.writes().dropFirst(idleBefore))
                #expect(idleWrites.isEmpty, "the idle run wrote: \(idleWrites)")
                #expect(await pihole.counters().since(countersBefore).restarts == 0)
            }
        }
    }

    /// The order netagent used before issue 16 (an update adds the new CNAME line, then removes
    /// the old one), replayed by hand: the simulator's `dnsmasq --test` gate refuses the add as
    /// FTL does, so a test of today's order would have caught the bug.
    @Test("the gate refuses an update sent add-before-remove, with dnsmasq's hint")
    func addBeforeRemoveIsRefused() async throws {
        var options = PiholeSimulator.Options()
        options.cnames = ["grafana.home.test,envoy-internal.home.test"]
        try await PiholeSimulator(options).withRunning { url in
            let client = PiholeClient(url: url, password: "pihole-lab-password", sleep: { _ in })
            await #expect { try await client.add("grafana.home.test,envoy-external.home.test", to: .cnameRecords, restart: false) } throws: { error in
                guard let error = error as? PiholeError else { return false }
                return error.status == 400 && error.key == "bad_request" && error.message == "Invalid configuration"
                    && error.hint?.contains("duplicate CNAME") == true
                    && error.hint?.contains("cname=grafana.home.test,envoy-external.home.test") == true
            }
            let provider = PiholeProvider(client: client)
            let old = Endpoint(name: try DNSName("grafana.home.test"), type: .cname, targets: ["envoy-internal.home.test"])
            let new = Endpoint(name: try DNSName("grafana.home.test"), type: .cname, targets: ["envoy-external.home.test"])
            var changes = Plan.Changes()
            changes.updates = [Plan.Update(old: old, new: new)]
            _ = try await provider.records()
            let report = try await provider.apply(changes)
            #expect(report.updated == 1, "\(report)")
            await provider.close()
        }
    }
}
