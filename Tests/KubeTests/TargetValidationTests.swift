import DNSCore
import Testing
@testable import Kube

/// Issue 20, defect 4: targets from a Gateway (`target` annotation, `spec.addresses`,
/// `status.addresses`) are checked against DNS and IP syntax before they reach a plan; a refused
/// value is a named warning on the route and an `--explain` line, never a record.
@Suite struct TargetValidationTests {
    static let target = "external-dns.alpha.kubernetes.io/target"

    @Test(arguments: [
        ("evil..com", "empty label"),
        ("1.2.3.4%eth0", "zone id"),
        ("fe80::1%eth0", "zone id"),
        ("-bad.example.net", "starts or ends with '-'"),
        (String(repeating: "a", count: 64) + ".example.net", "longer than 63"),
        ("*.example.net", "wildcard"),
        ("1.2.3.999", "looks like an IP address"),
    ], StatusMode.allCases)
    func refusedTargetAnnotation(_ value: (String, String), mode: StatusMode) {
        let yaml = gateway(listener(), annotations: "\(Self.target): \"\(value.0)\"") + route(hostnames: ["a.example.com"])
        let (result, _) = resolve(yaml, mode: mode)
        #expect(result.endpoints.isEmpty, "\(lines(result.endpoints))")
        let warning = result.warnings.first { $0.resource == "httproute/default/r" }
        #expect(warning?.message.contains(value.0) == true && warning?.message.contains(value.1) == true,
                "\(result.warnings.map(\.description))")
        #expect(warning?.message.contains("gateway default/gw") == true, "\(String(describing: warning))")
        #expect(result.explanations.contains { $0.reason.contains("target refused") }, "\(result.explanations)")
    }

    @Test(arguments: StatusMode.allCases)
    func refusedSpecAddressLeavesTheGoodOnes(mode: StatusMode) {
        let yaml = gateway(listener(), addresses: ["192.0.2.1", "1.2.3.4%eth0", "evil..com"]) + route(hostnames: ["a.example.com"])
        let (result, _) = resolve(yaml, mode: mode)
        #expect(lines(result.endpoints) == ["a.example.com A 192.0.2.1"])
        #expect(result.warnings.count(where: { $0.message.contains("target refused") }) == 2, "\(result.warnings)")
    }

    @Test func severalCNAMETargetsAreNotPublished() {
        let yaml = gateway(listener(), annotations: "\(Self.target): a.example.net, b.example.net, 192.0.2.7")
            + route(hostnames: ["a.example.com"])
        let (result, _) = resolve(yaml)
        // The A record stands; the CNAME, which DNS allows one value of, does not.
        #expect(lines(result.endpoints) == ["a.example.com A 192.0.2.7"])
        #expect(result.warnings.contains { $0.message.contains("a CNAME has one target") && $0.message.contains("a.example.net, b.example.net") },
                "\(result.warnings)")
    }

    @Test func syntax() {
        #expect(TargetSyntax.problem("192.0.2.1") == nil)
        #expect(TargetSyntax.problem("2001:db8::1") == nil)
        #expect(TargetSyntax.problem("lb.example.net.") == nil)
        #expect(TargetSyntax.problem("lb.example.net", for: .a) != nil)
        #expect(TargetSyntax.problem("192.0.2.1", for: .a) == nil)
        #expect(TargetSyntax.problem("2001:db8::1%eth0", for: .aaaa)?.contains("zone id") == true)
        #expect(TargetSyntax.problem("a..b", for: .cname)?.contains("empty label") == true)
        #expect(TargetSyntax.problem(String(repeating: "abcdefgh.", count: 30) + "net")?.contains("253") == true)
        #expect(TargetSyntax.problem("anything at all", for: .txt) == nil)
    }
}
