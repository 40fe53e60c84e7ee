import Foundation
import Hummingbird

/// The small HTTP endpoint through which `netagent lab fault …` reaches a running lab: every
/// request on 127.0.0.1 goes to one handler with its method, path and body.
public enum LabControlServer {
    /// An answer: HTTP status and a text body.
    public struct Reply: Sendable {
        public var status: Int
        public var body: String
        public init(status: Int, body: String) {
            self.status = status
            self.body = body
        }
    }

    /// Serves on 127.0.0.1:`port` (0: a free port) until the task is cancelled; calls
    /// `onListening` with the port once bound. Throws when it cannot bind.
    public static func run(
        port: Int = 0, handle: @escaping @Sendable (_ method: String, _ path: String, _ body: String) async -> Reply,
        onListening: @escaping @Sendable (Int) async -> Void
    ) async throws {
        let router = Router()
        for method in [HTTPRequest.Method.get, .post] {
            router.on("**", method: method) { request, _ -> Response in
                var request = request
                let body = (try? await request.collectBody(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
                let reply = await handle(request.method.rawValue, request.uri.path, body)
                return Response(status: .init(code: reply.status), headers: [.contentType: "text/plain; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: reply.body)))
            }
        }
        try await LabHTTP.serve(router, name: "lab-control", port: port, onListening: onListening)
    }
}
