internal import CAres
import Synchronization

/// A DNS server to ask: an IP address and a port.
public struct DNSServer: Hashable, Sendable, CustomStringConvertible {
    public let address: String
    public let port: Int

    public init(address: String, port: Int = 53) throws(ResolverError) {
        guard IPAddress.isValid(address) else {
            throw ResolverError(kind: .badServer, message: "'\(address)' is not an IP address")
        }
        guard (1...65535).contains(port) else {
            throw ResolverError(kind: .badServer, message: "port \(port) is out of range")
        }
        self.address = address
        self.port = port
    }

    /// Parses `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353`.
    public init(parsing text: String) throws(ResolverError) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ResolverError(kind: .badServer, message: "'\(text)': missing ']'")
            }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || rest.hasPrefix(":"), let port = rest.isEmpty ? 53 : Int(rest.dropFirst()) else {
                throw ResolverError(kind: .badServer, message: "'\(text)': bad port")
            }
            try self.init(address: host, port: port)
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            guard let port = Int(text[text.index(after: colon)...]) else {
                throw ResolverError(kind: .badServer, message: "'\(text)': bad port")
            }
            try self.init(address: String(text[..<colon]), port: port)
        } else {
            try self.init(address: text)
        }
    }

    /// The form `ares_set_servers_ports_csv` takes.
    var aresText: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }

    public var description: String { aresText }
}

/// One question for `Resolver.queryAll`.
public struct DNSQuestion: Hashable, Sendable {
    public var name: String
    public var type: DNSQueryType

    public init(name: String, type: DNSQueryType) {
        self.name = name
        self.type = type
    }
}

/// A reply from a server, whatever its response code.
public struct DNSResponse: Sendable, Hashable {
    public var name: String
    public var type: DNSQueryType
    public var server: String
    public var rcode: DNSResponseCode
    public var answers: [DNSRecord]
    public var authority: [DNSRecord]
    /// From the query leaving to its answer arriving (retries included).
    public var latency: Duration

    /// The names followed from the question through CNAME records, in order.
    public var cnameChain: [String] {
        var chain: [String] = []
        var current = name.lowercased().trimmingSuffixDot
        var seen: Set<String> = [current]
        while let next = answers.first(where: { $0.name == current && $0.data.isCNAME })?.data.cnameTarget,
              seen.insert(next).inserted {
            chain.append(next)
            current = next
        }
        return chain
    }

    /// The answer records of the asked type (after any CNAME chain).
    public var records: [DNSRecord] {
        answers.filter { $0.data.typeName == type.rawValue }
    }
}

/// A query that got no reply to read.
public struct ResolverError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case timeout, unreachable, badName, badServer, cancelled, malformed, setup, other
    }

    public var kind: Kind
    public var message: String
    public var name: String?
    public var server: String?
    /// How long the query was on the wire before it failed, measured on the channel's thread.
    public var elapsed: Duration?

    public init(kind: Kind, message: String, name: String? = nil, server: String? = nil, elapsed: Duration? = nil) {
        self.kind = kind
        self.message = message
        self.name = name
        self.server = server
        self.elapsed = elapsed
    }

    public var description: String {
        var parts: [String] = []
        if let name { parts.append(name) }
        if let server { parts.append("@\(server)") }
        return (parts.isEmpty ? "" : parts.joined(separator: " ") + ": ") + message
    }
}

/// Asynchronous DNS lookups on c-ares: one channel (and thread) per server and time budget,
/// response codes kept (REFUSED and SERVFAIL are answers, not "could not contact"), a bound
/// on queries in flight per server, and cancellation.
public final class Resolver: Sendable {
    public struct Options: Sendable, Hashable {
        /// The whole time a query may take, all tries included.
        public var timeout: Duration
        /// How many times a query is sent before it times out.
        public var tries: Int
        /// Queries on the wire at once per server; more wait in a queue.
        public var maxInFlight: Int

        public init(timeout: Duration = .seconds(2), tries: Int = 2, maxInFlight: Int = 64) {
            self.timeout = timeout
            self.tries = tries
            self.maxInFlight = maxInFlight
        }
    }

    private struct ChannelKey: Hashable {
        let server: DNSServer?
        let timeoutMs: Int
        let tries: Int
    }

    /// The longest time budget a query may have. c-ares takes each try's timeout as a C `int`
    /// of milliseconds (about 596 hours): beyond it the conversion overflowed and the process
    /// died (SIGILL). No DNS answer is worth waiting five minutes for, so budgets are clamped
    /// here and `config validate` and the CLI refuse longer ones (docs/security.md).
    public static let maxTimeout = Duration.seconds(300)
    /// The most tries a query may have (each doubles the one before: c-ares's back-off).
    public static let maxTries = 8

    public let options: Options
    private let channels = Mutex<[ChannelKey: AresChannel]>([:])

    public init(options: Options = Options()) {
        self.options = options
    }

    deinit { shutdown() }

    /// Stops every channel's thread; queries still waiting end as cancelled.
    public func shutdown() {
        let all = channels.withLock { channels in
            defer { channels.removeAll() }
            return Array(channels.values)
        }
        for channel in all { channel.shutdown() }
    }

    /// Asks `server` (the system's resolvers when nil) for `name`'s `type` records.
    /// Returns any reply, NXDOMAIN and REFUSED included; throws when none could be read
    /// (timeout, unreachable server, bad name, cancellation).
    public func query(
        _ name: String, type: DNSQueryType, server: DNSServer? = nil, timeout: Duration? = nil, tries: Int? = nil
    ) async throws(ResolverError) -> DNSResponse {
        try Self.checkName(name)
        let channel = try channel(for: key(server, timeout, tries))
        let outcomes = await submit([DNSQuestion(name: name, type: type)], to: channel)
        return try Self.response(outcomes[0], name: name, type: type, server: channel.serverDescription)
    }

    /// Asks `server` every question at once and returns one result per question, in order.
    /// The way to ask thousands of names a round: one hand-over to the channel's thread for
    /// the whole batch rather than one per name. Cancellation ends every unanswered question.
    public func queryAll(
        _ questions: [DNSQuestion], server: DNSServer? = nil, timeout: Duration? = nil, tries: Int? = nil
    ) async -> [Result<DNSResponse, ResolverError>] {
        guard !questions.isEmpty else { return [] }
        let channel: AresChannel
        do {
            channel = try self.channel(for: key(server, timeout, tries))
        } catch {
            return questions.map { _ in .failure(error) }
        }
        var results = [Result<DNSResponse, ResolverError>?](repeating: nil, count: questions.count)
        var asked: [(index: Int, question: DNSQuestion)] = []
        for (index, question) in questions.enumerated() {
            do throws(ResolverError) {
                try Self.checkName(question.name)
                asked.append((index, question))
            } catch {
                results[index] = .failure(error)
            }
        }
        let outcomes = asked.isEmpty ? [] : await submit(asked.map(\.question), to: channel)
        for ((index, question), outcome) in zip(asked, outcomes) {
            results[index] = Result { () throws(ResolverError) in
                try Self.response(outcome, name: question.name, type: question.type, server: channel.serverDescription)
            }
        }
        return results.map { $0! }
    }

    /// A name holding a control character (NUL would cut it short in C, CR/LF/ESC reach
    /// terminals and logs) is refused before it is asked.
    static func checkName(_ name: String) throws(ResolverError) {
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw ResolverError(kind: .badName, message: "the name holds a control character; not asked",
                                name: name.debugDescription)
        }
    }

    private func key(_ server: DNSServer?, _ timeout: Duration?, _ tries: Int?) -> ChannelKey {
        let budget = min(max(timeout ?? options.timeout, .milliseconds(1)), Self.maxTimeout)
        return ChannelKey(server: server, timeoutMs: budget.milliseconds,
                          tries: min(max(tries ?? options.tries, 1), Self.maxTries))
    }

    /// Hands `questions` to `channel` and waits until each has its outcome.
    private func submit(_ questions: [DNSQuestion], to channel: AresChannel) async -> [AresOutcome] {
        let pending = Mutex<[PendingQuery]>([])
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[AresOutcome], Never>) in
                let collected = Mutex((outcomes: [AresOutcome?](repeating: nil, count: questions.count), left: questions.count))
                let queries = questions.enumerated().map { index, question in
                    PendingQuery(name: question.name, type: question.type) { outcome in
                        let done: [AresOutcome]? = collected.withLock { state in
                            state.outcomes[index] = outcome
                            state.left -= 1
                            return state.left == 0 ? state.outcomes.map { $0! } : nil
                        }
                        if let done { continuation.resume(returning: done) }
                    }
                }
                pending.withLock { $0 = queries }
                // A cancellation that came before `pending` was set is seen here.
                if Task.isCancelled {
                    queries.forEach { $0.cancel() }
                } else {
                    channel.submit(queries)
                }
            }
        } onCancel: {
            pending.withLock { $0 }.forEach { $0.cancel() }
        }
    }

    private func channel(for key: ChannelKey) throws(ResolverError) -> AresChannel {
        let result: Result<AresChannel, ResolverError> = channels.withLock { channels in
            if let existing = channels[key] { return .success(existing) }
            do throws(ResolverError) {
                let created = try AresChannel(
                    servers: key.server?.aresText, budget: .milliseconds(key.timeoutMs), tries: key.tries,
                    maxInFlight: options.maxInFlight)
                channels[key] = created
                return .success(created)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    static func response(_ outcome: AresOutcome, name: String, type: DNSQueryType, server: String) throws(ResolverError) -> DNSResponse {
        if let packet = outcome.packet, packet.count >= 12 {
            let message: DNSMessage
            do {
                message = try DNSMessage(bytes: packet)
            } catch {
                throw ResolverError(kind: .malformed, message: error.description, name: name, server: server)
            }
            if let mismatch = message.mismatch(asked: name, type: type) {
                throw ResolverError(kind: .malformed, message: "reply refused: \(mismatch)", name: name, server: server,
                                    elapsed: outcome.latency)
            }
            return DNSResponse(
                name: name, type: type, server: server, rcode: message.rcode, answers: message.answers,
                authority: message.authority, latency: outcome.latency)
        }
        let text = String(cString: ares_strerror(outcome.status))
        let kind: ResolverError.Kind = switch outcome.status {
        case ARES_ETIMEOUT: .timeout
        case ARES_ECONNREFUSED: .unreachable
        case ARES_EBADNAME: .badName
        case ARES_ECANCELLED, ARES_EDESTRUCTION: .cancelled
        case ARES_EBADRESP: .malformed
        default: .other
        }
        let message = kind == .timeout ? "no reply within the time budget (\(text))" : text
        throw ResolverError(kind: kind, message: message, name: name, server: server, elapsed: outcome.latency)
    }
}

extension DNSRecordData {
    var isCNAME: Bool { if case .cname = self { true } else { false } }
    var cnameTarget: String? { if case .cname(let target) = self { target } else { nil } }
}

extension String {
    var trimmingSuffixDot: String { hasSuffix(".") ? String(dropLast()) : self }
}
