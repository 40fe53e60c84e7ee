public import Config
public import Diagnosis
import Hummingbird
public import Logging
public import Prometheus
public import ServiceLifecycle

/// The agent's HTTP server on `server.listen`: `/healthz` (the process serves) and `/readyz`
/// (sources synced and every target reached at least once; 503 with the reasons otherwise),
/// `/metrics` (Prometheus text format) when given a registry, `/status` (an HTML page for
/// people, see docs/status-page.md) when given a `StatusPage`.
/// A Hummingbird application is itself a service: it stops serving on graceful shutdown.
public enum StatusServer {
    public static func service(
        listen: ListenAddress, status: DaemonStatus, metrics: PrometheusCollectorRegistry? = nil, page: StatusPage? = nil,
        logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some Service {
        let router = Router()
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let reasons = status.notReadyReasons()
            let body = reasons.isEmpty ? "ready\n" : reasons.map { $0 + "\n" }.joined()
            return Response(status: reasons.isEmpty ? .ok : .serviceUnavailable,
                            headers: [.contentType: "text/plain; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        if let metrics {
            router.get("/metrics") { _, _ -> Response in
                Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                         body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
            }
        }
        if let page {
            router.get("/status") { _, _ -> Response in
                let html = StatusPageHTML.render(await page.snapshot())
                return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
            }
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(listen.host.description, port: listen.port), serverName: "netagent"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}
