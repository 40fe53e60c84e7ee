import DNSCore
import Testing

@Suite struct DNSNameTests {
    @Test(arguments: [
        ("Example.COM.", "example.com"),
        ("*.apps.example.com", "*.apps.example.com"),
        ("_acme-challenge.example.com", "_acme-challenge.example.com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a", "a"),
    ])
    func accepts(raw: String, canonical: String) throws {
        #expect(try DNSName(raw).text == canonical)
    }

    @Test(arguments: [
        ("", "empty name"),
        ("a..b", "empty label"),
        ("foo.*.example.com", "wildcard"),
        ("*", "wildcard"),
        ("-bad.example.com", "starts or ends"),
        ("bad-.example.com", "starts or ends"),
        ("sp ace.example.com", "not allowed"),
        (String(repeating: "a", count: 64) + ".com", "63 octets"),
        (Array(repeating: String(repeating: "a", count: 60), count: 5).joined(separator: "."), "253 octets"),
    ])
    func refuses(raw: String, reasonFragment: String) {
        #expect {
            try DNSName(raw)
        } throws: { error in
            (error as? DNSNameError)?.reason.contains(reasonFragment) == true
        }
    }

    @Test func subdomain() throws {
        let zone = try DNSName("example.com")
        #expect(try DNSName("a.b.example.com").isSubdomain(of: zone))
        #expect(try DNSName("example.com").isSubdomain(of: zone))
        #expect(try !DNSName("badexample.com").isSubdomain(of: zone))
    }

    @Test func endpointTargetsAreASortedSet() throws {
        let e = Endpoint(name: try DNSName("x.example.com"), type: .cname, targets: ["B.example.com.", "a.example.com", "b.example.com"])
        #expect(e.targets == ["a.example.com", "b.example.com"])
        let txt = Endpoint(name: try DNSName("x.example.com"), type: .txt, targets: ["Keep Case"])
        #expect(txt.targets == ["Keep Case"])
    }
}
