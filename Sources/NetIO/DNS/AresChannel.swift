internal import CAres
import Foundation
import Glibc
import Synchronization

/// One query waiting for its answer. Its outcome is delivered exactly once: by c-ares's
/// callback (on the channel's thread), by cancellation, or by the channel shutting down.
final class PendingQuery: Sendable {
    let name: String
    let type: DNSQueryType
    private let deliver: @Sendable (AresOutcome) -> Void
    private let state = Mutex(State())

    private struct State {
        var cancelled = false
        var delivered = false
        var sentAt: ContinuousClock.Instant?
    }

    init(name: String, type: DNSQueryType, deliver: @escaping @Sendable (AresOutcome) -> Void) {
        self.name = name
        self.type = type
        self.deliver = deliver
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    func markSent() { state.withLock { $0.sentAt = .now } }

    func complete(status: Int32, packet: [UInt8]?) {
        let sentAt: ContinuousClock.Instant?? = state.withLock { state in
            guard !state.delivered else { return nil }
            state.delivered = true
            return .some(state.sentAt)
        }
        guard let sentAt else { return }
        deliver(AresOutcome(status: status, packet: packet, latency: sentAt.map { ContinuousClock.now - $0 } ?? .zero))
    }

    func cancel() {
        let first = state.withLock { state in
            state.cancelled = true
            defer { state.delivered = true }
            return !state.delivered
        }
        if first { deliver(AresOutcome(status: ARES_ECANCELLED, packet: nil, latency: .zero)) }
    }
}

/// What c-ares reported for one query: its status and, when a reply came, the raw packet.
struct AresOutcome: Sendable {
    let status: Int32
    let packet: [UInt8]?
    let latency: Duration
}

/// One c-ares channel aimed at one DNS server (or the system's), driven by its own thread
/// blocked in `poll` over `ares_getsock`'s sockets and a wake-up pipe.
///
/// 1.18 cannot change servers while queries are pending and has no locking, so each server has
/// its own channel and the channel is touched only by its thread. At most `maxInFlight` queries
/// are on the wire at once: bursts of hundreds overflow a server's receive buffer.
///
/// `@unchecked Sendable`: `channel`, `waiting` and `inFlight` belong to the channel's thread;
/// other threads use only `inbox` (a `Mutex`) and write to the wake-up pipe.
final class AresChannel: @unchecked Sendable {
    private struct Inbox {
        var queries: [PendingQuery] = []
        var stopping = false
        /// A byte is in the wake-up pipe that the thread has not yet taken the inbox for.
        var wakePending = false
    }

    let serverDescription: String
    private var channel: ares_channel?
    private let inbox = Mutex(Inbox())
    private var waiting: [PendingQuery] = []
    private var waitingHead = 0
    private var inFlight = 0
    private let maxInFlight: Int
    private let wakeRead: Int32
    private let wakeWrite: Int32

    /// - Parameters:
    ///   - servers: `ares_set_servers_ports_csv` text, or nil for /etc/resolv.conf.
    ///   - budget: the whole time one query may take, spread over its tries.
    init(servers: String?, budget: Duration, tries: Int, maxInFlight: Int) throws(ResolverError) {
        AresLibrary.ensureInitialised()
        serverDescription = servers ?? "system resolver"
        self.maxInFlight = max(1, maxInFlight)
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw ResolverError(kind: .setup, message: "pipe failed: errno \(errno)")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        // A try's timeout doubles each round over the servers: T·n·(2^tries − 1) in all.
        var serverCount = servers == nil ? try Self.systemServerCount() : 1
        serverCount = max(1, serverCount)
        let rounds = (1 << min(max(1, tries), Resolver.maxTries)) - 1
        // c-ares keeps milliseconds in a C int: a longer try would overflow it.
        let perTry = min(max(50, budget.milliseconds / (serverCount * rounds)), Int(Int32.max))
        var options = ares_options()
        options.flags = ARES_FLAG_NOCHECKRESP
        options.timeout = Int32(perTry)
        options.tries = Int32(max(1, tries))
        var created: ares_channel?
        let status = ares_init_options(&created, &options, ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES)
        guard status == ARES_SUCCESS, let created else {
            close(fds[0]); close(fds[1])
            throw ResolverError(kind: .setup, message: "ares_init_options: \(String(cString: ares_strerror(status)))")
        }
        if let servers {
            let set = ares_set_servers_ports_csv(created, servers)
            guard set == ARES_SUCCESS else {
                ares_destroy(created)
                close(fds[0]); close(fds[1])
                throw ResolverError(kind: .badServer, message: "server '\(servers)': \(String(cString: ares_strerror(set)))")
            }
        }
        channel = created
        let thread = Thread { [self] in self.run() }
        thread.name = "netagent-dns"
        thread.start()
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    private static func systemServerCount() throws(ResolverError) -> Int {
        var probe: ares_channel?
        guard ares_init(&probe) == ARES_SUCCESS, let probe else { return 1 }
        defer { ares_destroy(probe) }
        var list: UnsafeMutablePointer<ares_addr_port_node>?
        guard ares_get_servers_ports(probe, &list) == ARES_SUCCESS else { return 1 }
        defer { ares_free_data(list) }
        var count = 0
        var node = list
        while let current = node { count += 1; node = current.pointee.next }
        return count
    }

    func submit(_ queries: [PendingQuery]) {
        // One wake-up per batch: queries added while a wake-up is pending ride along with it.
        let needsWake = inbox.withLock { box in
            box.queries.append(contentsOf: queries)
            defer { box.wakePending = true }
            return !box.wakePending
        }
        if needsWake { wake() }
    }

    func shutdown() {
        inbox.withLock { $0.stopping = true; $0.wakePending = true }
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func run() {
        guard let channel else { return }
        var sockets = [ares_socket_t](repeating: ARES_SOCKET_BAD, count: Int(ARES_GETSOCK_MAXNUM))
        while true {
            let work = inbox.withLock { box -> Inbox in
                defer { box.queries.removeAll(); box.wakePending = false }
                return box
            }
            if work.stopping {
                ares_cancel(channel)
                for query in waiting[waitingHead...] + work.queries { query.cancel() }
                ares_destroy(channel)
                self.channel = nil
                return
            }
            waiting.append(contentsOf: work.queries)
            startWaiting(on: channel)

            let bits = ares_getsock(channel, &sockets, ARES_GETSOCK_MAXNUM)
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            for i in 0..<Int(ARES_GETSOCK_MAXNUM) {
                var events: Int32 = 0
                if cares_getsock_readable(bits, Int32(i)) != 0 { events |= POLLIN }
                if cares_getsock_writable(bits, Int32(i)) != 0 { events |= POLLOUT }
                if events != 0 { fds.append(pollfd(fd: sockets[i], events: Int16(events), revents: 0)) }
            }
            var waitMs: Int32 = -1
            if inFlight > 0 {
                var tv = timeval()
                if let next = ares_timeout(channel, nil, &tv) {
                    let ms = Int(next.pointee.tv_sec) * 1000 + (Int(next.pointee.tv_usec) + 999) / 1000
                    waitMs = Int32(clamping: ms)
                }
            }
            let ready = poll(&fds, nfds_t(fds.count), waitMs)
            if fds[0].revents != 0 { drainWakePipe() }
            if ready <= 0 {
                ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD)
                continue
            }
            for entry in fds.dropFirst() where entry.revents != 0 {
                let readable = entry.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0
                let writable = entry.revents & Int16(POLLOUT) != 0
                ares_process_fd(channel, readable ? entry.fd : ARES_SOCKET_BAD, writable ? entry.fd : ARES_SOCKET_BAD)
            }
        }
    }

    private func startWaiting(on channel: ares_channel) {
        while inFlight < maxInFlight, waitingHead < waiting.count {
            let query = waiting[waitingHead]
            waitingHead += 1
            if query.isCancelled { continue }
            inFlight += 1
            query.markSent()
            let context = Unmanaged.passRetained(QueryContext(query: query, channel: self)).toOpaque()
            ares_query(channel, query.name, Int32(ns_c_in.rawValue), Int32(query.type.code), { arg, status, _, abuf, alen in
                guard let arg else { return }
                let context = Unmanaged<QueryContext>.fromOpaque(arg).takeRetainedValue()
                context.channel.inFlight -= 1
                let packet = abuf.map { Array(UnsafeBufferPointer(start: $0, count: Int(max(0, alen)))) }
                context.query.complete(status: status, packet: packet)
            }, context)
        }
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        }
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }
}

/// Carried through c-ares's `void *arg`; retained until the callback runs.
private final class QueryContext {
    let query: PendingQuery
    unowned(unsafe) let channel: AresChannel

    init(query: PendingQuery, channel: AresChannel) {
        self.query = query
        self.channel = channel
    }
}

/// `ares_library_init` is not thread safe: it runs once, before the first channel.
enum AresLibrary {
    private static let initialised: Bool = ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS

    static func ensureInitialised() { _ = initialised }
}
