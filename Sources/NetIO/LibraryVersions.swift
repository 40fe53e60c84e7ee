internal import CAres
internal import CCurl

/// The versions of the C libraries NetIO runs on, as they report themselves at run time.
public enum LibraryVersions {
    /// libcurl's version and its TLS backend, e.g. `libcurl 7.88.1 (OpenSSL/3.0.17)`.
    public static var curl: String {
        guard let info = ccurl_version_info() else { return "libcurl (unknown)" }
        let version = info.pointee.version.map { String(cString: $0) } ?? "?"
        let tls = info.pointee.ssl_version.map { String(cString: $0) } ?? "no TLS"
        return "libcurl \(version) (\(tls))"
    }

    /// c-ares's version, e.g. `c-ares 1.18.1`.
    public static var cares: String {
        guard let text = ares_version(nil) else { return "c-ares (unknown)" }
        return "c-ares \(String(cString: text))"
    }
}
