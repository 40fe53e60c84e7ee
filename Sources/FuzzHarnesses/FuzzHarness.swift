public import Foundation

/// The fuzz harnesses: each feeds arbitrary bytes to one of netagent's input parsers, the
/// way the running agent would meet them, and checks what must hold for every input. Any
/// input may be refused (that is what errors are for); none may crash, hang or break an
/// invariant (a broken invariant traps with `fuzzCheck`, which the fuzzer reports as a crash).
///
/// The library is built and tested with the package (`FuzzTests` replays `Fuzz/Corpus`), so the
/// harnesses never rot; `NetAgentFuzz` wraps them for libFuzzer when `NETAGENT_FUZZ=1`
/// (`scripts/fuzz`, docs/fuzzing.md).
public enum FuzzHarness: String, CaseIterable, Sendable {
    /// Kubernetes YAML through `ManifestLoader.load(text:)` and the route source.
    case manifest
    /// A watch body through `JSONObjectFramer`, `WatchEvent` and the route source.
    case watch
    /// Cloudflare v4 replies through the client's decoding and the provider's record reading.
    case cloudflare
    /// Pi-hole v6 replies and config lines through the client's decoding and `PiholeRecordSet`.
    case pihole
    /// Text through `DNSName`, `IPAddress` and the ownership TXT format.
    case dnsname
    /// Wire bytes through `DNSMessage(bytes:)`.
    case dnsmessage
    /// A configuration file through `NetAgentConfig.parse(yaml:file:baseDirectory:)`.
    case config

    /// Runs the harness on one input.
    public func run(_ data: Data) {
        switch self {
        case .manifest: ManifestFuzz.run(data)
        case .watch: WatchFuzz.run(data)
        case .cloudflare: CloudflareFuzz.run(data)
        case .pihole: PiholeFuzz.run(data)
        case .dnsname: DNSNameFuzz.run(data)
        case .dnsmessage: DNSMessageFuzz.run(data)
        case .config: ConfigFuzz.run(data)
        }
    }
}

/// Traps with `message` when `condition` is false: in a fuzz run that is a crash with the input saved.
func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
               file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("fuzz invariant broken: \(message())", file: file, line: line) }
}
