import DNSCore
import Testing
@testable import Kube

/// §1.6: how each annotation is read, under both prefixes.
@Suite struct AnnotationTests {
    let reader = AnnotationReader()

    @Test(arguments: [
        ("600", 600), ("1", 1), ("10m", 600), ("1h30m", 5400), ("15s", 15), ("1.5s", 1), ("2147483647", 2_147_483_647),
        ("+60", 60), ("90000ms", 90), ("1h0.5m", 3630),
    ])
    func validTTL(raw: String, seconds: Int) {
        #expect(reader.ttl(["external-dns.alpha.kubernetes.io/ttl": raw]) == .success(seconds))
    }

    @Test(arguments: ["0", "-5", "-1m", "2147483648", "abc", "10 m", "1d", "", "0s", "500ms", "1.5"])
    func invalidTTL(raw: String) {
        guard case .failure(let problem) = reader.ttl(["external-dns.kubernetes.io/ttl": raw]) else {
            Issue.record("TTL \(raw) was accepted")
            return
        }
        #expect(problem.key == "external-dns.kubernetes.io/ttl")
    }

    @Test func absentTTLIsUnset() {
        #expect(reader.ttl([:]) == .success(nil))
    }

    @Test func gaPrefixWinsOverAlpha() {
        let annotations = ["external-dns.alpha.kubernetes.io/ttl": "60", "external-dns.kubernetes.io/ttl": "120"]
        #expect(reader.ttl(annotations) == .success(120))
        let alphaOnly = AnnotationReader(prefixes: [AnnotationReader.alphaPrefix])
        #expect(alphaOnly.ttl(annotations) == .success(60))
        let custom = AnnotationReader(prefixes: ["split.example/"])
        #expect(custom.ttl(annotations) == .success(nil))
    }

    @Test(arguments: [
        ("a.example.com", ["a.example.com"]),
        ("a.example.com, b.example.com", ["a.example.com", "b.example.com"]),
        (" a.example.com ,b.example.com ", ["a.example.com", "b.example.com"]),
        ("a.example.com,", ["a.example.com", ""]),
        ("", [""]),
    ])
    func hostnameAnnotation(raw: String, hosts: [String]) {
        #expect(reader.hostnames(["external-dns.alpha.kubernetes.io/hostname": raw]) == hosts)
    }

    @Test(arguments: [
        ("lb.example.com.", ["lb.example.com"]),
        ("10.0.0.1, lb.example.com", ["10.0.0.1", "lb.example.com"]),
        ("a.example.,,b.example", ["a.example", "b.example"]),
        ("", []),
    ])
    func targetAnnotation(raw: String, targets: [String]) {
        #expect(reader.targets(["external-dns.alpha.kubernetes.io/target": raw]) == targets)
    }

    @Test(arguments: [
        (nil, nil), ("dns-controller", nil), ("none", "none"), ("", ""),
    ] as [(String?, String?)])
    func controllerOptOut(value: String?, optOut: String?) {
        let annotations = value.map { ["external-dns.alpha.kubernetes.io/controller": $0] } ?? [:]
        #expect(reader.controllerOptOut(annotations) == optOut)
    }

    @Test func providerSpecificProperties() {
        let (specific, problems) = reader.providerSpecific([
            "external-dns.alpha.kubernetes.io/cloudflare-proxied": "True",
            "external-dns.kubernetes.io/cloudflare-tags": "team:b, env:a ,,owner:c",
            "external-dns.alpha.kubernetes.io/cloudflare-record-comment": "made by netagent",
            "external-dns.alpha.kubernetes.io/cloudflare-region-key": "eu",
            "external-dns.alpha.kubernetes.io/cloudflare-custom-hostname": "shop.example.net",
        ])
        #expect(problems.isEmpty)
        #expect(specific == ProviderSpecific(cloudflareProxied: true, cloudflareTags: ["env:a", "owner:c", "team:b"],
                                             cloudflareRecordComment: "made by netagent", cloudflareRegionKey: "eu",
                                             cloudflareCustomHostname: "shop.example.net"))
    }

    /// Cloudflare refuses a record whose tag is not `name:value` (and with it its whole batch):
    /// such tags are a named problem at the edge, not a write.
    @Test(arguments: ["team", "a b:c", ":value", "owner:ok, plain", "é:x"])
    func invalidCloudflareTagsAreReportedAndUnset(raw: String) {
        let (specific, problems) = reader.providerSpecific(["external-dns.alpha.kubernetes.io/cloudflare-tags": raw])
        #expect(specific.cloudflareTags == nil)
        #expect(problems.map(\.key) == ["external-dns.alpha.kubernetes.io/cloudflare-tags"])
        #expect(problems.first?.reason.contains("name:value") == true)
    }

    @Test func cloudflareCommentWithALineBreakIsReportedAndUnset() {
        let (specific, problems) = reader.providerSpecific(["external-dns.alpha.kubernetes.io/cloudflare-record-comment": "one\ntwo"])
        #expect(specific.cloudflareRecordComment == nil)
        #expect(problems.map(\.value) == ["one\ntwo"])
    }

    @Test func invalidProxiedIsReportedAndUnset() {
        let (specific, problems) = reader.providerSpecific(["external-dns.alpha.kubernetes.io/cloudflare-proxied": "yes"])
        #expect(specific.cloudflareProxied == nil)
        #expect(problems.map(\.value) == ["yes"])
    }
}

/// The selector syntax of `--label-filter`, `--annotation-filter`, `--gateway-label-filter`.
@Suite struct SelectorTests {
    @Test(arguments: [
        ("", ["any": "thing"], true),
        ("app=web", ["app": "web"], true),
        ("app=web", ["app": "db"], false),
        ("app==web", ["app": "web"], true),
        ("app!=web", [:], true),
        ("app!=web", ["app": "web"], false),
        ("app", ["app": ""], true),
        ("app", [:], false),
        ("!app", [:], true),
        ("!app", ["app": "x"], false),
        ("external-dns/unifi in (true)", ["external-dns/unifi": "true"], true),
        ("external-dns/unifi in (true)", ["external-dns/unifi": "false"], false),
        ("external-dns/unifi in (true)", [:], false),
        ("tier notin (a, b)", ["tier": "c"], true),
        ("tier notin (a, b)", ["tier": "b"], false),
        ("a=1, b in (2,3), !c", ["a": "1", "b": "3"], true),
        ("a=1,b in (2,3),!c", ["a": "1", "b": "3", "c": ""], false),
        ("external-dns.alpha.kubernetes.io/enabled=true", ["external-dns.alpha.kubernetes.io/enabled": "true"], true),
    ])
    func matches(selector: String, labels: [String: String], expected: Bool) throws {
        #expect(try LabelSelector(parsing: selector).matches(labels) == expected)
    }

    @Test(arguments: ["a in b", "a in (b", "a=1 b=2", "!", "a >= 3", ",a", "a=1,"])
    func refuses(selector: String) {
        #expect(throws: SelectorSyntaxError.self) { try LabelSelector(parsing: selector) }
    }
}
