/// The one check of a record's values before they reach a plan (issue 20, "validation at the
/// edge"): sources call it on every target they read (Gateway `target` annotations,
/// `status.addresses`, `spec.addresses`), providers on every value they are asked to write.
/// A refused value becomes a named warning on its route, never a write.
public enum TargetSyntax {
    /// Why `target` cannot be a value of a `type` record, or nil when it can: A and AAAA take
    /// an address of their family (no zone id such as `%eth0`), a CNAME a host name (no empty
    /// label, labels of at most 63 octets, 253 in all, no wildcard, not a would-be address
    /// such as `1.2.3.999`), TXT any text.
    public static func problem(_ target: String, for type: RecordType) -> String? {
        switch type {
        case .a:
            return IPText.isIPv4(target) ? nil : "'\(target)' is not an IPv4 address"
        case .aaaa:
            if target.contains("%") { return "'\(target)' carries a zone id (%…), which DNS cannot hold" }
            return IPText.canonicalIPv6(target) != nil ? nil : "'\(target)' is not an IPv6 address"
        case .cname:
            return hostProblem(target)
        case .txt:
            return nil
        }
    }

    /// Why `target` is neither an IP address nor a host name a CNAME may point to, or nil.
    public static func problem(_ target: String) -> String? {
        if IPText.isIP(target) { return nil }
        if target.contains("%"), IPText.isIP(target.prefix { $0 != "%" }) {
            return "'\(target)' is an address with a zone id (%…), which DNS cannot hold"
        }
        return hostProblem(target)
    }

    private static func hostProblem(_ target: String) -> String? {
        let name: DNSName
        do { name = try DNSName(target) } catch { return "'\(target)' is not a host name: \(error.reason)" }
        if name.isWildcard { return "'\(target)' is a wildcard, which no CNAME can point to" }
        if let last = name.labels.last, last.allSatisfy(\.isNumber) {
            return "'\(target)' looks like an IP address but is not one"
        }
        return nil
    }
}
