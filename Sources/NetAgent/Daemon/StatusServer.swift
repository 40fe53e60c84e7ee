public import Config
public import Diagnosis
import Foundation
import Glibc
import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import NetIO
public import Prometheus
public import ServiceLifecycle
import Synchronization

/// The agent's HTTP server on `server.listen`: `/healthz` (the process serves) and `/readyz`
/// (sources synced and every target reached at least once; 503 with the reasons otherwise),
/// `/metrics` (Prometheus text format) when given a registry, `/status` (an HTML page for
/// people, see docs/status-page.md) when given a `StatusPage`.
/// A Hummingbird application is itself a service: it stops serving on graceful shutdown.
///
/// Held to a hostile client (docs/security.md): a connection must send its request headers
/// within `headerTimeout` and is closed after `idleTimeout` between requests; at most
/// `connectionCap` connections are open, the oldest quiet one closed to make room for a new
/// one (so a flood of idle connections never locks out the kubelet's `/healthz`); and with a
/// token, `/status` and `/metrics` answer 401 without `Authorization: Bearer <token>`.
public enum StatusServer {
    public static func service(
        listen: ListenAddress, status: DaemonStatus, metrics: PrometheusCollectorRegistry? = nil, page: StatusPage? = nil,
        settings: ServerConfig? = nil, token: String? = nil, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some Service {
        let settings = settings ?? ServerConfig(listen: listen)
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let reasons = status.notReadyReasons()
            let body = reasons.isEmpty ? "ready\n" : Redaction.text(reasons.map { $0 + "\n" }.joined())
            return Response(status: reasons.isEmpty ? .ok : .serviceUnavailable,
                            headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        if let metrics {
            router.get("/metrics") { request, _ -> Response in
                if let refusal = refuse(request, token: token) { return refusal }
                return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
            }
        }
        if let page {
            router.get("/status") { request, _ -> Response in
                if let refusal = refuse(request, token: token) { return refusal }
                // Probe reasons and outbox errors may quote a URL or a peer: through the redactor.
                let html = Redaction.text(StatusPageHTML.render(await page.snapshot()))
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
            }
        }
        let cap = settings.connectionCap(openFiles: openFileLimit())
        let connections = ConnectionTable(cap: cap)
        let http = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(table: connections, headerTimeout: TimeAmount(settings.headerTimeout))],
            idleTimeout: TimeAmount(settings.idleTimeout))
        return Application(
            router: router,
            server: .http1(configuration: http),
            // A backstop: never more than one connection over the cap, even if closing the oldest lags.
            configuration: .init(address: .hostname(listen.host.description, port: listen.port), serverName: "netagent",
                                 availableConnectionsDelegate: .maximum(cap + 1, logger: logger)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// 401 unless the request carries the bearer token (compared in constant time); nil when
    /// no token is configured or it matches.
    static func refuse(_ request: Request, token: String?) -> Response? {
        guard let token else { return nil }
        let given = request.headers[.authorization] ?? ""
        if constantTimeEqual(given, "Bearer " + token) { return nil }
        return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"netagent\"", .contentType: "text/plain"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "a bearer token is required (server.authTokenFile)\n")))
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }

    /// The process's soft limit on open files (RLIMIT_NOFILE).
    static func openFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return limit.rlim_cur == rlim_t.max ? Int.max / 2 : Int(clamping: limit.rlim_cur)
    }
}

/// The status server's open connections, oldest activity first: past `cap`, the one quiet
/// the longest is closed.
final class ConnectionTable: Sendable {
    private struct Entry { let channel: any Channel; var lastActive: ContinuousClock.Instant }
    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])
    let cap: Int

    init(cap: Int) { self.cap = cap }

    /// Adds `channel` (once it is active, so a connection is never closed while its pipeline is
    /// still being set up); returns the channel to close to stay within the cap, if any.
    func opened(_ channel: any Channel) -> (any Channel)? {
        entries.withLock { entries in
            guard entries[ObjectIdentifier(channel)] == nil else { return nil }
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, lastActive: .now)
            guard entries.count > cap else { return nil }
            let oldest = entries.filter { $0.key != ObjectIdentifier(channel) }.min { $0.value.lastActive < $1.value.lastActive }
            guard let oldest else { return nil }
            entries[oldest.key] = nil
            return oldest.value.channel
        }
    }

    func active(_ channel: any Channel) {
        entries.withLock { $0[ObjectIdentifier(channel)]?.lastActive = .now }
    }

    func closed(_ channel: any Channel) {
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// Per connection, after HTTP decoding: enters it in the table (closing the quietest one when
/// over the cap), closes it unless a request head arrives within `headerTimeout`, and marks it
/// active on every request and response.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    // `@unchecked Sendable`: touched only on its channel's event loop.
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private let table: ConnectionTable
    private let headerTimeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(table: ConnectionTable, headerTimeout: TimeAmount) {
        self.table = table
        self.headerTimeout = headerTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        if channel.isActive { enter(channel) }
        deadline = context.eventLoop.scheduleTask(in: headerTimeout) { channel.close(promise: nil) }
    }

    func channelActive(context: ChannelHandlerContext) {
        enter(context.channel)
        context.fireChannelActive()
    }

    /// Enters an active connection in the table; the quietest one, if over the cap, is closed on
    /// its own loop after the event in hand (its activation included) has run its course.
    private func enter(_ channel: any Channel) {
        if let quietest = table.opened(channel) {
            quietest.eventLoop.execute { quietest.close(promise: nil) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        table.closed(context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        table.closed(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A part arrives only once a request head is decoded: the headers came in time.
        deadline?.cancel()
        deadline = nil
        table.active(context.channel)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        table.active(context.channel)
        context.write(data, promise: promise)
    }
}
