@testable import Config
@testable import NetAgent
import Testing

/// One broken file and the issue it must produce.
struct BrokenFile: CustomTestStringConvertible, Sendable {
    let name: String
    let yaml: String
    let path: String
    let line: Int
    let message: String
    var testDescription: String { name }
}

private let minimal = ConfigFixtures.minimal

@Suite("Broken configuration files")
struct ConfigErrorTests {
    static let cases: [BrokenFile] = [
        BrokenFile(name: "policy not in the list", yaml: minimal + """
            providers:
              - { name: cf, type: cloudflare, apiTokenEnv: CF, zones: [example.com] }
              - name: ph
                type: pihole
                url: http://pihole
                policy: delete-all
            """, path: "providers[1].policy", line: 11, message: "'delete-all' is not one of sync, upsert-only, create-only"),
        BrokenFile(name: "malformed duration", yaml: minimal + "reconcile:\n  resync: 5mm\n",
                   path: "reconcile.resync", line: 7, message: "malformed duration '5mm'"),
        BrokenFile(name: "duration without unit", yaml: minimal + "probes:\n  interval: 30\n",
                   path: "probes.interval", line: 7, message: "has no unit"),
        BrokenFile(name: "address that is not an IP", yaml: minimal.replacingOccurrences(of: "10.0.60.21", with: "10.0.60.256"),
                   path: "cluster.nodes[0].address", line: 5, message: "is not an IP address"),
        BrokenFile(name: "CIDR that is not one", yaml: minimal.replacingOccurrences(of: "10.0.60.0/24", with: "10.0.60.0/33"),
                   path: "cluster.network", line: 3, message: "prefix must be 0…32"),
        BrokenFile(name: "CIDR with host bits", yaml: minimal.replacingOccurrences(of: "10.0.60.0/24", with: "10.0.60.7/24"),
                   path: "cluster.network", line: 3, message: "the network is 10.0.60.0/24"),
        BrokenFile(name: "node outside the network", yaml: minimal + "    - { name: b, address: 10.0.61.22 }\n",
                   path: "cluster.nodes[1].address", line: 6, message: "outside cluster.network 10.0.60.0/24"),
        BrokenFile(name: "VIP outside the network", yaml: minimal.replacingOccurrences(of: "  nodes:", with: "  vip: 192.168.1.1\n  nodes:"),
                   path: "cluster.vip", line: 4, message: "outside cluster.network"),
        BrokenFile(name: "duplicate node name", yaml: minimal + "    - { name: a, address: 10.0.60.22 }\n",
                   path: "cluster.nodes[1].name", line: 6, message: "duplicate node name 'a' (first at line 5)"),
        BrokenFile(name: "duplicate provider name", yaml: minimal + """
            providers:
              - { name: dns, type: pihole, url: http://a }
              - { name: dns, type: pihole, url: http://b }
            """, path: "providers[1].name", line: 8, message: "duplicate provider name 'dns'"),
        BrokenFile(name: "maxDeleteFraction above 1", yaml: minimal + "reconcile:\n  maxDeleteFraction: 1.5\n",
                   path: "reconcile.maxDeleteFraction", line: 7, message: "between 0 and 1"),
        BrokenFile(name: "maxDeleteFraction below 0", yaml: minimal + "reconcile:\n  maxDeleteFraction: -0.1\n",
                   path: "reconcile.maxDeleteFraction", line: 7, message: "between 0 and 1"),
        BrokenFile(name: "URL without scheme", yaml: minimal + "providers:\n  - { name: p, type: pihole, url: pihole.lan }\n",
                   path: "providers[0].url", line: 7, message: "not a URL with a scheme"),
        BrokenFile(name: "SMTP URL with the wrong scheme", yaml: minimal + """
            alerting:
              smtp: { url: "https://relay", from: a@example.com, to: [b@example.com] }
            """, path: "alerting.smtp.url", line: 7, message: "use smtp or smtps"),
        BrokenFile(name: "missing required cluster name", yaml: minimal.replacingOccurrences(of: "  name: home\n", with: ""),
                   path: "cluster", line: 2, message: "missing required key 'name'"),
        BrokenFile(name: "missing cluster", yaml: "state: { path: /tmp/x }\n",
                   path: "", line: 1, message: "missing required key 'cluster'"),
        BrokenFile(name: "missing provider type", yaml: minimal + "providers:\n  - { name: p }\n",
                   path: "providers[0]", line: 7, message: "missing required key 'type'"),
        BrokenFile(name: "unknown provider type", yaml: minimal + "providers:\n  - { name: p, type: route53 }\n",
                   path: "providers[0].type", line: 7, message: "'route53' is not a provider type"),
        BrokenFile(name: "Cloudflare without token", yaml: minimal + "providers:\n  - { name: p, type: cloudflare, zones: [a.com] }\n",
                   path: "providers[0]", line: 7, message: "missing 'apiTokenFile' or 'apiTokenEnv'"),
        BrokenFile(name: "Cloudflare with both token forms", yaml: minimal + """
            providers:
              - { name: p, type: cloudflare, zones: [a.com], apiTokenFile: /t, apiTokenEnv: T }
            """, path: "providers[0]", line: 7, message: "set only one of 'apiTokenFile' and 'apiTokenEnv'"),
        BrokenFile(name: "Cloudflare txtPrefix and txtSuffix", yaml: minimal + """
            providers:
              - { name: p, type: cloudflare, zones: [a.com], apiTokenEnv: T, txtPrefix: x-, txtSuffix: -y }
            """, path: "providers[0]", line: 7, message: "set only one of 'txtPrefix' and 'txtSuffix'"),
        BrokenFile(name: "Cloudflare registry neither txt nor comment", yaml: minimal + """
            providers:
              - { name: p, type: cloudflare, zones: [a.com], apiTokenEnv: T, registry: tags }
            """, path: "providers[0].registry", line: 7, message: "'tags' is not one of txt, comment"),
        BrokenFile(name: "commentMaxLength without the comment registry", yaml: minimal + """
            providers:
              - { name: p, type: cloudflare, zones: [a.com], apiTokenEnv: T, commentMaxLength: 500 }
            """, path: "providers[0].commentMaxLength", line: 7, message: "applies only with 'registry: comment'"),
        BrokenFile(name: "an owner id that cannot stand in a comment marker", yaml: minimal + """
            providers:
              - { name: p, type: cloudflare, zones: [a.com], apiTokenEnv: T, registry: comment, owner: "my home" }
            """, path: "providers[0].owner", line: 7, message: "cannot stand in a comment marker"),
        BrokenFile(name: "batch chunk too large", yaml: minimal + """
            providers:
              - { name: p, type: cloudflare, zones: [a.com], apiTokenEnv: T, batchChunkSize: 4000 }
            """, path: "providers[0].batchChunkSize", line: 7, message: "out of range 1…3500"),
        BrokenFile(name: "bad domain filter", yaml: minimal + """
            providers:
              - name: p
                type: pihole
                url: http://pihole
                select:
                  domainFilters: [example.com, "-bad.com"]
            """, path: "providers[0].select.domainFilters[1]", line: 11, message: "invalid DNS name"),
        BrokenFile(name: "bad environment variable name", yaml: minimal + "providers:\n  - { name: p, type: pihole, url: http://a, passwordEnv: 1X }\n",
                   path: "providers[0].passwordEnv", line: 7, message: "not an environment variable name"),
        BrokenFile(name: "listen without port", yaml: minimal + "server:\n  listen: 0.0.0.0\n",
                   path: "server.listen", line: 7, message: "not ADDRESS:PORT"),
        BrokenFile(name: "vip probe without cluster.vip", yaml: minimal + "probes:\n  vip: { port: 6443 }\n",
                   path: "probes.vip", line: 7, message: "needs cluster.vip"),
        BrokenFile(name: "echoes that do not fit in half the timeout", yaml: minimal + """
            probes:
              nodes: { timeout: 2s, echoCount: 50, echoSpacing: 40ms }
            """, path: "probes.nodes.echoSpacing", line: 7, message: "50 echoes 40ms apart take 2s, more than half the timeout (1s)"),
        BrokenFile(name: "too many echoes at the default spacing", yaml: minimal + """
            probes:
              nodes: { echoCount: 100 }
            """, path: "probes.nodes.echoCount", line: 7, message: "100 echoes 20ms apart take 2s"),
        BrokenFile(name: "a latency threshold that cannot be measured", yaml: minimal + """
            probes:
              nodes: { maxLatency: 1500ms }
            """, path: "probes.nodes.maxLatency", line: 7, message: "cannot be measured"),
        BrokenFile(name: "loss as a percentage", yaml: minimal + """
            probes:
              nodes: { maxLoss: 20 }
            """, path: "probes.nodes.maxLoss", line: 7, message: "must be between 0 and 1"),
        BrokenFile(name: "tunnel id not a UUID", yaml: minimal + """
            probes:
              tunnel: { readyURL: "http://cloudflared:2000/ready", tunnelID: abc }
            """, path: "probes.tunnel.tunnelID", line: 7, message: "not a tunnel UUID"),
        BrokenFile(name: "duplicate DNS server", yaml: minimal + """
            probes:
              dns:
                servers:
                  - { name: a, address: 1.1.1.1 }
                  - { name: a, address: 1.0.0.1 }
            """, path: "probes.dns.servers[1].name", line: 10, message: "duplicate DNS server name 'a'"),
        BrokenFile(name: "bad mail address", yaml: minimal + """
            alerting:
              smtp: { url: "smtp://relay:25", from: netagent, to: [b@example.com] }
            """, path: "alerting.smtp.from", line: 7, message: "not a mail address"),
        BrokenFile(name: "silence with a bad time", yaml: minimal + """
            alerting:
              smtp: { url: "smtp://relay:25", from: a@example.com, to: [b@example.com] }
              silences:
                - { target: k8s-4, until: next week }
            """, path: "alerting.silences[0].until", line: 9, message: "not an RFC 3339 time"),
        BrokenFile(name: "leader election that could double-write", yaml: minimal + "leaderElection: { enabled: true, renewDeadline: 30s }\n",
                   path: "leaderElection", line: 6, message: "retryPeriod < renewDeadline < leaseDuration"),
        BrokenFile(name: "a domain filter that is not a name", yaml: minimal + """
            providers:
              - { name: ph, type: pihole, url: http://pihole, select: { domainFilters: [.home.test, "..home.test"] } }
            """, path: "providers[0].select.domainFilters[1]", line: 7, message: "empty label"),
        BrokenFile(name: "a lease duration the Lease cannot store", yaml: minimal + "leaderElection:\n  leaseDuration: 2500ms\n",
                   path: "leaderElection.leaseDuration", line: 7, message: "not a whole number of seconds"),
        BrokenFile(name: "an unknown ledger backend", yaml: minimal + "state:\n  path: /x\n  ledger: etcd\n",
                   path: "state.ledger", line: 8, message: "'etcd' is not one of file, configmap"),
        BrokenFile(name: "credentials in a URL", yaml: minimal + """
            providers:
              - { name: ph, type: pihole, urls: [http://pihole, "http://admin:hunter2@pihole2"] }
            """, path: "providers[0].urls[1]", line: 7, message: "use the secret keys"),
        BrokenFile(name: "a mapping where a list belongs", yaml: minimal + "sources:\n  manifests: { a: b }\n",
                   path: "sources.manifests", line: 7, message: "expected a list"),
        BrokenFile(name: "a boolean that is not one", yaml: minimal + "reconcile:\n  dryRun: yes\n",
                   path: "reconcile.dryRun", line: 7, message: "not a boolean"),
        BrokenFile(name: "YAML syntax error", yaml: minimal + "providers: [ { name: a\n",
                   path: "", line: 7, message: "YAML syntax error"),
        BrokenFile(name: "duplicate key", yaml: minimal + "cluster: {}\n",
                   path: "", line: 1, message: "duplicate key 'cluster'"),
    ]

    @Test("each broken file names the key path and line", arguments: cases)
    func broken(_ file: BrokenFile) {
        let issues = ConfigFixtures.issues(file.yaml)
        let match = issues.first { $0.path == file.path && $0.line == file.line && $0.message.contains(file.message) }
        #expect(match != nil, "wanted \(file.path) at line \(file.line) '\(file.message)', got:\n\(issues.map(\.description).joined(separator: "\n"))")
        #expect(issues.allSatisfy { $0.file == "test.yaml" })
    }

    @Test("unknown keys at any depth are errors with their path and line",
          arguments: [
              ("colour: red\n", "colour", 6),
              ("state:\n  path: /x\n  mode: \"0600\"\n", "state.mode", 8),
              ("providers:\n  - { name: p, type: pihole, url: http://a, zone: x }\n", "providers[0].zone", 7),
              ("providers:\n  - { name: p, type: pihole, url: http://a, select: { gatewayname: x } }\n",
               "providers[0].select.gatewayname", 7),
              ("probes:\n  nodes: { tcpPort: [1] }\n", "probes.nodes.tcpPort", 7),
              ("reconcile:\n  interval: 1m\n", "reconcile.interval", 7),
          ])
    func unknownKey(extra: String, path: String, line: Int) {
        let issues = ConfigFixtures.issues(minimal + extra)
        let wanted = issues.first { $0.path == path && $0.line == line }
        #expect(wanted?.message.hasPrefix("unknown key") == true, "got \(issues)")
    }

    @Test("a plain secret is refused with a pointer to the File/Env form",
          arguments: [
              ("providers:\n  - { name: p, type: cloudflare, zones: [a.com], apiTokenEnv: T, apiToken: abc }\n",
               "providers[0].apiToken", "use 'apiTokenFile' (a file) or 'apiTokenEnv'"),
              ("providers:\n  - { name: p, type: pihole, url: http://a, password: hunter2 }\n",
               "providers[0].password", "use 'passwordFile' (a file) or 'passwordEnv'"),
              ("alerting:\n  smtp: { url: \"smtp://r\", from: a@b.c, to: [d@e.f], username: u, password: p }\n",
               "alerting.smtp.password", "use 'passwordFile' (a file) or 'passwordEnv'"),
              ("sources:\n  kubernetes: { token: abc }\n", "sources.kubernetes.token", "secrets go in *File or *Env keys"),
          ])
    func plainSecret(extra: String, path: String, message: String) {
        let issues = ConfigFixtures.issues(minimal + extra)
        #expect(issues.contains { $0.path == path && $0.line == 7 && $0.message.contains(message) }, "got \(issues)")
        #expect(!issues.map(\.description).joined().contains("hunter2"))
    }

    @Test("all errors of a file are reported at once, sorted by line")
    func collectsAll() {
        let yaml = """
            server: { listen: nowhere }
            cluster:
              name: home
              network: 10.0.60.0/24
              nodes:
                - { name: a, address: 10.0.99.1 }
            reconcile: { resync: 1x, maxDeleteFraction: 2 }
            bogus: 1
            """
        let issues = ConfigFixtures.issues(yaml)
        #expect(issues.map(\.line) == [1, 6, 7, 7, 8])
        #expect(issues.map(\.path) == ["server.listen", "cluster.nodes[0].address", "reconcile.maxDeleteFraction",
                                       "reconcile.resync", "bogus"])
        let error = ConfigError(file: "f.yaml", issues: issues.reversed())
        #expect(error.issues.map(\.line) == [1, 6, 7, 7, 8])
        #expect(error.description.hasPrefix("test.yaml:1: server.listen: "))
    }

    @Test("an unreadable file is one issue without a line")
    func unreadable() {
        #expect {
            _ = try NetAgentConfig.load(file: "/nonexistent/netagent.yaml")
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.issues.count == 1 && error.issues[0].line == 0
                && error.description.hasPrefix("/nonexistent/netagent.yaml: cannot read")
        }
    }
}
