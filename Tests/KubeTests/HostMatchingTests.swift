import Testing
@testable import Kube

/// §1.4 `gwMatchingHost` / `gwHost`: validity, canonical form and intersection of hosts.
@Suite struct HostMatchingTests {
    @Test(arguments: [
        ("", ""),
        ("Foo.Example.COM", "foo.example.com"),
        ("*.example.com", "*.example.com"),
        ("a-b.c1.example", "a-b.c1.example"),
    ])
    func validHosts(raw: String, canonical: String) throws {
        #expect(try HostMatching.canonical(raw).get() == canonical)
    }

    @Test(arguments: [
        ("10.0.0.1", "IP address"),
        ("2001:db8::1", "IP address"),
        ("foo.example.com.", "not 1 to 63"),
        ("foo..example.com", "not 1 to 63"),
        ("-foo.example.com", "start and end"),
        ("foo_bar.example.com", "other than letters"),
        ("*", "start and end"),
        ("*example.com", "start and end"),
        ("foo.*.example.com", "start and end"),
        (String(repeating: "a", count: 64) + ".example.com", "not 1 to 63"),
        ("bücher.example", "other than letters"),
    ])
    func invalidHosts(raw: String, reasonFragment: String) {
        guard case .failure(let problem) = HostMatching.canonical(raw) else {
            Issue.record("\(raw) was accepted")
            return
        }
        #expect(problem.reason.contains(reasonFragment))
    }

    @Test(arguments: [
        // (listener, route, result)
        ("", "foo.example.com", "foo.example.com"),
        ("foo.example.com", "", "foo.example.com"),
        ("*.example.com", "", "*.example.com"),
        ("foo.example.com", "foo.example.com", "foo.example.com"),
        ("*.example.com", "foo.example.com", "foo.example.com"),
        ("*.example.com", "foo.bar.example.com", "foo.bar.example.com"),
        ("foo.example.com", "*.example.com", "foo.example.com"),
        ("*.example.com", "*.foo.example.com", "*.foo.example.com"),
        ("*.foo.example.com", "*.example.com", "*.foo.example.com"),
        ("*.example.com", "*.example.com", "*.example.com"),
    ])
    func intersects(listener: String, route: String, result: String) {
        #expect(HostMatching.intersection(listener: listener, route: route) == result)
    }

    @Test(arguments: [
        ("*.example.com", "example.com"),
        ("example.com", "*.example.com"),
        ("foo.example.com", "bar.example.com"),
        ("*.example.com", "foo.example.net"),
        ("*.example.com", "fooexample.com"),
        ("*.foo.example.com", "bar.example.com"),
    ])
    func doesNotIntersect(listener: String, route: String) {
        #expect(HostMatching.intersection(listener: listener, route: route) == nil)
    }
}
