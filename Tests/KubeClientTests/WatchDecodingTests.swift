import Foundation
import Kube
import Testing

@Suite("watch stream decoding")
struct WatchDecodingTests {
    static let events = [
        #"{"type":"ADDED","object":{"kind":"HTTPRoute","apiVersion":"gateway.networking.k8s.io/v1","metadata":{"name":"a","namespace":"media","resourceVersion":"5","labels":{"app":"x"}},"spec":{"hostnames":["a.example.com"]}}}"#,
        #"{"type":"MODIFIED","object":{"metadata":{"name":"b","namespace":"home","resourceVersion":"6","annotations":{"external-dns.alpha.kubernetes.io/ttl":"60"}},"spec":{"note":"brace } and quote \" and \\ in a string {"}}}"#,
        #"{"type":"BOOKMARK","object":{"kind":"HTTPRoute","apiVersion":"gateway.networking.k8s.io/v1","metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}}}"#,
        #"{"type":"DELETED","object":{"metadata":{"name":"a","namespace":"media","resourceVersion":"10"}}}"#,
        #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 3 (8)","reason":"Expired","code":410}}"#,
    ]

    static func decodeAll(_ pieces: [Data]) throws -> [WatchEvent] {
        var framer = JSONObjectFramer()
        var events: [WatchEvent] = []
        for piece in pieces {
            for object in try framer.append(piece) {
                events.append(try WatchEvent(json: try JSONDecoder().decode(JSONValue.self, from: object), resource: .httpRoutes))
            }
        }
        #expect(framer.isAtBoundary)
        return events
    }

    @Test("every way of cutting the stream gives the same events", arguments: [1, 2, 3, 7, 64, 100_000])
    func anySplit(size: Int) throws {
        // Newline-separated, and two objects back to back with no newline (self-framing).
        let stream = Data((Self.events.joined(separator: "\n") + "\n").utf8) + Data(Self.events[0].utf8) + Data(Self.events[3].utf8)
        var pieces: [Data] = []
        var offset = 0
        while offset < stream.count {
            pieces.append(stream.subdata(in: offset..<min(offset + size, stream.count)))
            offset += size
        }
        let events = try Self.decodeAll(pieces)
        #expect(events.count == 7)
        guard events.count == 7 else { return }
        guard case .added(let added) = events[0] else { Issue.record("first is not ADDED"); return }
        #expect(added.key == "media/a" && added.resourceVersion == "5" && added.labels == ["app": "x"])
        guard case .modified(let modified) = events[1] else { Issue.record("second is not MODIFIED"); return }
        #expect(modified.kind == "HTTPRoute" && modified.apiVersion == "gateway.networking.k8s.io/v1")
        #expect(modified.annotations["external-dns.alpha.kubernetes.io/ttl"] == "60")
        #expect(modified.raw["spec"]?["note"]?.stringValue == #"brace } and quote " and \ in a string {"#)
        #expect(events[2] == .bookmark(resourceVersion: "9"))
        guard case .deleted(let deleted) = events[3] else { Issue.record("fourth is not DELETED"); return }
        #expect(deleted.key == "media/a" && deleted.resourceVersion == "10")
        #expect(events[4] == .error(KubeStatus(code: 410, reason: "Expired", message: "too old resource version: 3 (8)")))
        if case .error(let status) = events[4] { #expect(status.isExpired) }
    }

    @Test("garbage between objects and oversized objects are refused")
    func refusesGarbage() {
        var framer = JSONObjectFramer()
        #expect(throws: KubeError.self) { _ = try framer.append(Data("{}\nnot json".utf8)) }
        var small = JSONObjectFramer(maxObjectSize: 16)
        #expect(throws: KubeError.self) { _ = try small.append(Data(#"{"type":"ADDED","object":{"#.utf8)) }
    }

    @Test("typed decoding from a KubeObject")
    func typedDecode() throws {
        struct Route: Decodable { struct Spec: Decodable { var hostnames: [String] }; var spec: Spec }
        let raw = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"metadata":{"name":"r"},"spec":{"hostnames":["x.example.com"],"n":1.5,"i":3}}"#.utf8))
        let object = KubeObject(raw: raw, defaultKind: "HTTPRoute")
        #expect(try object.decode(Route.self).spec.hostnames == ["x.example.com"])
        #expect(object.raw["spec"]?["n"] == .double(1.5) && object.raw["spec"]?["i"] == .int(3))
    }
}
