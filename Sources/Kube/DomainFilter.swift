/// external-dns's plain domain filter (`--domain-filter`, `--exclude-domains`): a name passes
/// when it equals or lies below one of the domains (a domain written with a leading `.`
/// admits only names below it), and equals or lies below none of the excluded ones. No
/// domains means every name passes the first test.
struct DomainFilter: Sendable {
    private let include: [String]
    private let exclude: [String]

    init(domains: [String], excluding: [String]) {
        include = domains.compactMap(Self.normalise)
        exclude = excluding.compactMap(Self.normalise)
    }

    var isEmpty: Bool { include.isEmpty && exclude.isEmpty }

    func admits(_ name: String) -> Bool {
        if !include.isEmpty && !include.contains(where: { Self.covers($0, name) }) { return false }
        return !exclude.contains { Self.covers($0, name) }
    }

    private static func covers(_ domain: String, _ name: String) -> Bool {
        if domain.hasPrefix(".") { return name.hasSuffix(domain) }
        return name == domain || name.hasSuffix("." + domain)
    }

    private static func normalise(_ raw: String) -> String? {
        var text = HostMatching.asciiLowercased(raw.filter { $0 != " " })
        if text.hasSuffix(".") { text.removeLast() }
        return text.isEmpty ? nil : text
    }
}
