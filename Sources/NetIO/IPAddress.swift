import Glibc

/// IP address text checks, done by the C library's parser.
public enum IPAddress {
    public static func isIPv4(_ text: String) -> Bool {
        var addr = in_addr()
        return inet_pton(AF_INET, text, &addr) == 1
    }

    public static func isIPv6(_ text: String) -> Bool {
        var addr = in6_addr()
        return inet_pton(AF_INET6, text, &addr) == 1
    }

    public static func isValid(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }
}
