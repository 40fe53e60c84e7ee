import Foundation
import NetIO
import Testing
import TestSupport

@Suite(.enabled(if: installed("/usr/bin/python3", "openssl"), "needs python3 and openssl"))
struct HTTPClientTests {
    let client = HTTPClient()

    struct Echo: Decodable {
        let method: String
        let path: String
        let headers: [String: String]
        let body: String
    }

    @Test func getAndPostRoundTrip() async throws {
        let server = try await HTTPTestServer()
        let get = try await client.send(HTTPRequest(url: server.url("/echo?x=1"), headers: [HTTPHeader(name: "X-Test", value: "a")]))
        #expect(get.status == 200)
        #expect(get.headers["x-echo"] == "yes")
        let echoed = try JSONDecoder().decode(Echo.self, from: get.body)
        #expect(echoed.method == "GET")
        #expect(echoed.path == "/echo?x=1")
        #expect(echoed.headers["x-test"] == "a")

        let payload = #"{"name":"app.example.com","content":"198.18.0.10"}"#
        let post = try await client.send(HTTPRequest(
            method: "POST", url: server.url("/echo"),
            headers: [HTTPHeader(name: "Content-Type", value: "application/json")], body: Data(payload.utf8)))
        let posted = try JSONDecoder().decode(Echo.self, from: post.body)
        #expect(posted.method == "POST")
        #expect(posted.body == payload)
        #expect(posted.headers["content-type"] == "application/json")

        let patch = try await client.send(HTTPRequest(method: "PATCH", url: server.url("/echo"), body: Data("x".utf8)))
        #expect(try JSONDecoder().decode(Echo.self, from: patch.body).method == "PATCH")
        let delete = try await client.send(HTTPRequest(method: "DELETE", url: server.url("/echo")))
        #expect(try JSONDecoder().decode(Echo.self, from: delete.body).method == "DELETE")
    }

    @Test func errorStatusIsReturnedNotThrown() async throws {
        let server = try await HTTPTestServer()
        let response = try await client.send(HTTPRequest(url: server.url("/status/429")))
        #expect(response.status == 429)
        #expect(String(decoding: response.body, as: UTF8.self).contains("429"))
    }

    @Test func twoHundredConcurrentRequestsOnOneClient() async throws {
        let server = try await HTTPTestServer()
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<200 {
                group.addTask {
                    let response = try await client.send(HTTPRequest(url: server.url("/echo?i=\(i)")))
                    let echo = try JSONDecoder().decode(Echo.self, from: response.body)
                    return echo.path == "/echo?i=\(i)" ? response.status : -1
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 200)
        #expect(statuses.allSatisfy { $0 == 200 })
    }

    @Test func sequentialRequestsReuseTheConnection() async throws {
        let server = try await HTTPTestServer()
        for i in 0..<20 {
            let response = try await client.send(HTTPRequest(url: server.url("/echo?i=\(i)")))
            #expect(response.status == 200)
        }
        let stats = try await client.send(HTTPRequest(url: server.url("/stats")))
        let object = try #require(try JSONSerialization.jsonObject(with: stats.body) as? [String: Any])
        let connections = try #require(object["connections"] as? Int)
        // One connection for all when nothing else runs; a loaded machine may see a server close one.
        #expect(connections <= 4, "21 requests used \(connections) connections")
    }

    /// Reads `count` lines of /stream, then returns: the response is dropped with the scope.
    func readStreamLines(_ server: HTTPTestServer, count: Int) async throws -> [String] {
        let response = try await client.stream(HTTPRequest(url: server.url("/stream"), timeout: nil))
        #expect(response.status == 200)
        var lines: [String] = []
        var buffer = Data()
        for try await chunk in response.body {
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0a) {
                lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                buffer = Data(buffer[(newline + 1)...])
                if lines.count == count { return lines }
            }
        }
        return lines
    }

    func streamsClosed(_ server: HTTPTestServer, atLeast expected: Int) async throws -> Int {
        var closed = 0
        for _ in 0..<100 where closed < expected {
            try await Task.sleep(for: .milliseconds(50))
            let stats = try await client.send(HTTPRequest(url: server.url("/stats")))
            let object = try JSONSerialization.jsonObject(with: stats.body) as? [String: Any]
            closed = object?["streams_closed"] as? Int ?? 0
        }
        return closed
    }

    @Test func streamIsReadIncrementallyThenDropped() async throws {
        let server = try await HTTPTestServer()
        let lines = try await readStreamLines(server, count: 3)
        #expect(lines == [#"{"n": 0}"#, #"{"n": 1}"#, #"{"n": 2}"#])
        // Dropping the stream removes the transfer: the server sees the client go away.
        #expect(try await streamsClosed(server, atLeast: 1) == 1)
    }

    @Test func cancellingTheConsumerRemovesTheStream() async throws {
        let server = try await HTTPTestServer()
        let response = try await client.stream(HTTPRequest(url: server.url("/stream"), timeout: nil))
        let consumer = Task {
            var pieces = 0
            for try await _ in response.body { pieces += 1 }
            return pieces
        }
        try await Task.sleep(for: .milliseconds(200))
        consumer.cancel()
        _ = await consumer.result
        #expect(try await streamsClosed(server, atLeast: 1) == 1)
    }

    @Test func cancellingTheAwaitingTaskEndsTheRequest() async throws {
        let server = try await HTTPTestServer()
        let task = Task { try await client.send(HTTPRequest(url: server.url("/slow?ms=5000"))) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let result = await task.result
        guard case .failure(let error as NetIOError) = result else {
            Issue.record("expected a cancellation error, got \(result)")
            return
        }
        #expect(error.kind == .cancelled)
    }

    @Test func timeoutIsACurlTimeout() async throws {
        let server = try await HTTPTestServer()
        await #expect {
            try await client.send(HTTPRequest(url: server.url("/slow?ms=3000"), timeout: .milliseconds(300)))
        } throws: { error in
            (error as? NetIOError)?.isTimeout == true
        }
    }

    @Test func refusedPortGivesAClearError() async throws {
        let port = try freeLoopbackPort()
        do {
            _ = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/x?token=s3cret"))
            Issue.record("a refused port did not throw")
        } catch {
            #expect(error.code == 7)
            #expect(error.kind == .transfer)
            #expect(error.description.contains("127.0.0.1:\(port)"))
            #expect(!error.description.contains("s3cret"), "the token leaked into \(error)")
        }
    }

    @Test func pinnedAddressIgnoresTheHostName() async throws {
        let server = try await HTTPTestServer()
        let response = try await client.send(HTTPRequest(
            url: "http://vip.cluster.invalid:\(server.port)/echo", pinnedAddress: "127.0.0.1"))
        #expect(response.status == 200)
        #expect(try JSONDecoder().decode(Echo.self, from: response.body).headers["host"] == "vip.cluster.invalid:\(server.port)")
    }

    @Test func invalidURLIsRefusedBeforeAnyTraffic() async throws {
        await #expect { try await client.send(HTTPRequest(url: "ftp://example.invalid/")) } throws: { error in
            (error as? NetIOError)?.kind == .invalidRequest
        }
    }
}

@Suite(.enabled(if: installed("/usr/bin/python3", "openssl"), "needs python3 and openssl"))
struct HTTPClientTLSTests {
    let client = HTTPClient()

    @Test func trustsAGeneratedCAFromFileOrPEM() async throws {
        let certs = try TestCertificates.make()
        let server = try await HTTPTestServer(tls: certs)
        let viaFile = try await client.send(HTTPRequest(url: server.url("/echo"), tls: TLSOptions(caFile: certs.caCertificate)))
        #expect(viaFile.status == 200)
        let viaPEM = try await client.send(HTTPRequest(url: server.url("/echo", host: "localhost"),
                                                       tls: TLSOptions(caPEM: try certs.pem(certs.caCertificate))))
        #expect(viaPEM.status == 200)
    }

    @Test func refusesAnUntrustedCertificateUnlessVerificationIsOff() async throws {
        let certs = try TestCertificates.make()
        let server = try await HTTPTestServer(tls: certs)
        await #expect { try await client.send(HTTPRequest(url: server.url("/echo"))) } throws: { error in
            (error as? NetIOError)?.code == 60
        }
        let insecure = try await client.send(HTTPRequest(url: server.url("/echo"), tls: TLSOptions(verify: false)))
        #expect(insecure.status == 200)
    }

    @Test func serverNameOverridesTheNameChecked() async throws {
        let certs = try TestCertificates.make()
        let server = try await HTTPTestServer(tls: certs)
        // The URL names a host the certificate does not cover; tls-server-name makes it verify.
        let url = "https://127.0.0.2:\(server.port)/echo"
        await #expect { try await client.send(HTTPRequest(url: url, tls: TLSOptions(caFile: certs.caCertificate))) } throws: { error in
            [7, 51, 60].contains((error as? NetIOError)?.code ?? 0)
        }
        let pinned = try await client.send(HTTPRequest(
            url: server.url("/echo"), tls: TLSOptions(caFile: certs.caCertificate, serverName: "netagent.test")))
        #expect(pinned.status == 200)
    }

    @Test func clientCertificateFromPEM() async throws {
        let certs = try TestCertificates.make()
        let server = try await HTTPTestServer(tls: certs, requireClientCertificate: true)
        await #expect { try await client.send(HTTPRequest(url: server.url("/echo"), tls: TLSOptions(caFile: certs.caCertificate))) } throws: { error in
            (error as? NetIOError)?.kind == .transfer
        }
        let response = try await client.send(HTTPRequest(url: server.url("/echo"), tls: TLSOptions(
            caFile: certs.caCertificate, clientCertificatePEM: try certs.pem(certs.clientCertificate),
            clientKeyPEM: try certs.pem(certs.clientKey))))
        #expect(response.status == 200)
    }
}
