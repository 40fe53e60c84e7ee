import DNSCore
import Testing

@Suite struct TXTFormatTests {
    @Test func valueIsExternalDNSsExactText() {
        let value = TXTLabels.serialize(EndpointLabels(owner: "home", resource: "httproute/media/jellyfin"))
        #expect(value == #""heritage=external-dns,external-dns/owner=home,external-dns/resource=httproute/media/jellyfin""#)
        #expect(TXTLabels.serialize(EndpointLabels(owner: "home")) == #""heritage=external-dns,external-dns/owner=home""#)
    }

    @Test(arguments: [
        (#""heritage=external-dns,external-dns/owner=home,external-dns/resource=ingress/a/b""#, "home", "ingress/a/b"),
        ("heritage=external-dns,external-dns/owner=home", "home", nil),
        (#""heritage=external-dns,external-dns/resource=r/x/y,external-dns/owner=o""#, "o", "r/x/y"),
    ] as [(String, String, String?)])
    func parsesOwnershipValues(value: String, owner: String, resource: String?) {
        #expect(TXTLabels.parse(value) == EndpointLabels(owner: owner, resource: resource))
    }

    @Test(arguments: [
        "v=spf1 include:_spf.example.net ~all",
        #""heritage=someone-else,external-dns/owner=home""#,
        #""external-dns/owner=home""#,
        "",
    ])
    func ignoresOtherTXTValues(value: String) {
        #expect(TXTLabels.parse(value) == nil)
    }

    @Test func serializeThenParseRoundTrips() {
        let labels = EndpointLabels(owner: "a-b_c", resource: "httproute/ns/name")
        #expect(TXTLabels.parse(TXTLabels.serialize(labels)) == labels)
    }

    /// Cases from external-dns's mapper tests and docs (EXTERNAL-DNS.md §3.2).
    @Test(arguments: [
        ("", "", "", "foo.example.com", RecordType.a, "a-foo.example.com"),
        ("", "", "", "foo.example.com", .aaaa, "aaaa-foo.example.com"),
        ("", "", "", "foo.example.com", .cname, "cname-foo.example.com"),
        ("%{record_type}-", "", "", "foo.example.com", .a, "a-foo.example.com"),
        ("", "-%{record_type}", "", "foo.example.com", .a, "foo-a.example.com"),
        ("txt.", "", "", "bar.zone", .a, "txt.a-bar.zone"),
        ("txt-", "", "wild", "*.example.com", .a, "txt-a-wild.example.com"),
        ("", "", "", "example.com", .a, "a-example.com"),
        ("%{record_type}.", "", "", "example.com", .cname, "cname.example.com"),
        ("", "-txt", "", "foo.example.com", .aaaa, "aaaa-foo-txt.example.com"),
    ] as [(String, String, String, String, RecordType, String)])
    func namesTXTRecords(prefix: String, suffix: String, wildcard: String, name: String, type: RecordType, txt: String) throws {
        let mapper = try TXTNameMapper(prefix: prefix, suffix: suffix, wildcardReplacement: wildcard)
        #expect(mapper.txtName(for: Fx.name(name), type: type) == txt)
        let back = mapper.endpointName(forTXT: txt)
        #expect(back?.name == mapper.lookupName(for: Fx.name(name)))
        #expect(back?.type == type.rawValue.lowercased())
    }

    @Test(arguments: [
        ("", "", "foo.example.com", "foo.example.com"),
        ("txt.", "", "txt.foo.example.com", "foo.example.com"),
        ("", "-txt", "foo-txt.example.com", "foo.example.com"),
    ])
    func readsOldUntypedNames(prefix: String, suffix: String, txt: String, name: String) throws {
        let mapper = try TXTNameMapper(prefix: prefix, suffix: suffix)
        let back = mapper.endpointName(forTXT: txt)
        #expect(back?.name == name)
        #expect(back?.type == "")
    }

    @Test func prefixAndSuffixTogetherAreRefused() {
        #expect(throws: TXTConfigError.self) { try TXTNameMapper(prefix: "p-", suffix: "-s") }
    }

    @Test(arguments: [
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8::0:1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1"),
        ("::", "::"),
        ("::1", "::1"),
        ("fe80::", "fe80::"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("::ffff:192.0.2.1", "::ffff:c000:201"),
    ])
    func canonicalisesIPv6(raw: String, canonical: String) {
        #expect(IPText.canonicalIPv6(raw) == canonical)
    }

    @Test(arguments: ["10.0.0.1", "2001:db8::1", "::"])
    func recognisesAddresses(text: String) { #expect(IPText.isIP(text)) }

    @Test(arguments: ["lb.example.net", "10.0.0", "256.1.1.1", "1:2:3:4:5:6:7:8:9", "2001:db8:::1", "::1::", "g::1", ""])
    func refusesNonAddresses(text: String) {
        #expect(!IPText.isIP(text))
        #expect(IPText.canonicalIPv6(text) == nil)
    }

    @Test(arguments: [
        ([], [], "any.thing", true),
        (["example.com"], [], "example.com", true),
        (["example.com"], [], "a.b.example.com", true),
        (["example.com"], [], "badexample.com", false),
        ([".example.com"], [], "example.com", false),
        ([".example.com"], [], "a.example.com", true),
        (["example.com"], ["lan.example.com"], "x.lan.example.com", false),
        (["example.com"], ["lan.example.com"], "lan.example.com", false),
        (["example.com"], [".lan.example.com"], "lan.example.com", true),
        (["example.com", "example.org"], [], "www.example.org", true),
        (["Example.COM."], [], "www.example.com", true),
    ] as [([String], [String], String, Bool)])
    func domainFilter(include: [String], exclude: [String], name: String, matches: Bool) {
        #expect(DomainFilter(include: include, exclude: exclude).matches(Fx.name(name)) == matches)
    }
}
