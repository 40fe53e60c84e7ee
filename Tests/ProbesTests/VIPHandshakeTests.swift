import Foundation
import NetIO
import Testing
import TestSupport
@testable import Probes

/// The VIP probe's TLS handshake is the one place netagent does not verify a certificate
/// (docs/security.md): it must work against a certificate nobody trusts and send nothing secret.
@Suite struct VIPHandshakeTests {
    @Test("the handshake request is a bare GET: no verification, and no credentials of any kind")
    func handshakeCarriesNothing() throws {
        let probe = VIPProbe(vip: try #require(IPAddress("198.18.0.10")), port: 6443, nodes: [])
        let request = probe.handshakeRequest(timeout: .seconds(1))
        #expect(request.url == "https://198.18.0.10:6443/readyz")
        #expect(request.method == "GET" && request.body == nil && request.headers.isEmpty)
        #expect(!request.tls.verify)
        #expect(request.tls.clientCertificatePEM == nil && request.tls.clientKeyPEM == nil)
    }

    @Test("against an untrusted certificate the handshake completes, and the server sees no Authorization")
    func handshakeWorksUnverified() async throws {
        let certs = try TestCertificates.make()
        let server = try await HTTPTestServer(tls: certs)
        let probe = VIPProbe(vip: try #require(IPAddress("127.0.0.1")), port: server.port, nodes: [])
        var request = probe.handshakeRequest(timeout: .seconds(5))
        // The same request, sent to the server's echo page to see what it carries.
        request.url = server.url("/echo")
        let answer = try await HTTPClient().send(request)
        #expect(answer.status == 200)
        let echoed = String(decoding: answer.body, as: UTF8.self).lowercased()
        #expect(!echoed.contains("authorization") && !echoed.contains("cookie"), "\(echoed)")
        // Verification on, the same server is refused: the probe's exemption is its own.
        await #expect(throws: NetIOError.self) { try await HTTPClient().send(HTTPRequest(url: server.url("/echo"))) }
    }
}
