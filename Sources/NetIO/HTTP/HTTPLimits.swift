/// The most bytes netagent reads from one HTTP response body, per API. The count is of
/// decoded bytes (after gzip, deflate, brotli or zstd), so a compression bomb stops at the
/// same bound as an endless plain body. A response above its bound ends the transfer with
/// `NetIOError.Kind.responseTooLarge`. Every value is listed in docs/security.md.
public enum HTTPBodyLimit {
    /// Any request that names no bound of its own (lab control, probes' plain GETs): 4 MiB.
    public static let standard = 4 << 20
    /// One Cloudflare v4 reply: a page of at most 5,000 DNS records of ~1 KiB each, or a
    /// batch reply of as many; 32 MiB leaves room for long TXT contents and comments.
    public static let cloudflare = 32 << 20
    /// One Pi-hole v6 reply (`/api/config/dns/hosts`, `cnameRecords`: one line per record):
    /// 16 MiB.
    public static let pihole = 16 << 20
    /// One Kubernetes list page (netagent asks for pages; a server that ignores `limit`
    /// still stops here): 128 MiB, room for ~100,000 routes of ~1 KiB.
    public static let kubernetesList = 128 << 20
    /// One object of a Kubernetes watch stream; the stream itself runs for as long as the
    /// watch does. Kubernetes refuses objects above 1.5 MiB (etcd's request limit): 16 MiB.
    public static let kubernetesWatchEvent = 16 << 20
    /// Bytes of a stream that arrived and that its reader has not taken yet. A watch reader
    /// keeps up with any real API server; a peer flooding faster than events can be decoded
    /// ends its stream here: 64 MiB.
    public static let streamUnread = 64 << 20
    /// cloudflared's `/ready` reply, a few dozen bytes of JSON: 64 KiB.
    public static let tunnelReady = 64 << 10
}

/// The header values netagent sends are checked at the edge: CR or LF in a value would end
/// the header and start another (header injection), NUL cuts it short in C.
enum HTTPHeaderCheck {
    /// Why `header` cannot be sent, or nil. Never quotes the value: it may be a secret.
    static func problem(_ header: HTTPHeader) -> String? {
        guard !header.name.isEmpty, header.name.utf8.allSatisfy(isTokenByte) else {
            return "header name '\(header.name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? String($0) : "?" }.joined())' is not an HTTP token"
        }
        if header.value.utf8.contains(where: { $0 == 0x0d || $0 == 0x0a || $0 == 0x00 }) {
            return "the value of header '\(header.name)' holds CR, LF or NUL; refused (header injection)"
        }
        return nil
    }

    /// RFC 9110 §5.6.2 tchar.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
