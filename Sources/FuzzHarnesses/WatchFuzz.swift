import Foundation
import Kube
import PlanOutput

/// A watch body: framing must not depend on how the bytes were cut into pieces, and every
/// framed object must decode to an event or a `.decoding` error; the events' objects go
/// through the route source as the informers would hand them over.
enum WatchFuzz {
    static func run(_ data: Data) {
        var whole = JSONObjectFramer()
        let wholeObjects: [Data]? = try? whole.append(data)

        // The same bytes in pieces of 1–8 bytes (chosen by the length, so runs repeat).
        var pieces = JSONObjectFramer()
        let size = data.count % 8 + 1
        var pieceObjects: [Data] = []
        var pieceFailed = false
        var offset = data.startIndex
        while offset < data.endIndex {
            let end = min(offset + size, data.endIndex)
            do { pieceObjects += try pieces.append(data.subdata(in: offset..<end)) } catch {
                pieceFailed = true
                break
            }
            offset = end
        }
        // The per-event bound: a small one never lets a larger object through, whether the
        // object arrives in pieces or whole, and is only ever stricter than the default.
        var small = JSONObjectFramer(maxObjectSize: 64)
        if let smallObjects = try? small.append(data) {
            fuzzCheck(smallObjects.allSatisfy { $0.count <= 64 }, "an object above the 64-byte bound was framed")
            fuzzCheck(smallObjects == wholeObjects, "the 64-byte bound framed what the default bound did not")
        }
        if let wholeObjects {
            fuzzCheck(!pieceFailed, "framing failed in pieces of \(size) but not whole")
            fuzzCheck(pieceObjects == wholeObjects, "pieces of \(size) framed \(pieceObjects.count) objects, whole \(wholeObjects.count)")
            fuzzCheck(pieces.isAtBoundary == whole.isAtBoundary, "boundary differs in pieces of \(size)")
        } else {
            fuzzCheck(pieceFailed, "framing failed whole but not in pieces of \(size)")
        }

        var gateways: [Gateway] = []
        var routes: [Route] = []
        var namespaces: [Namespace] = []
        var dnsEndpoints: [DNSEndpoint] = []
        for object in wholeObjects ?? [] {
            guard let json = try? JSONDecoder().decode(JSONValue.self, from: object) else { continue }
            for resource in [KubeResource.httpRoutes, .gateways, .namespaces] {
                let event: WatchEvent
                do { event = try WatchEvent(json: json, resource: resource) } catch {
                    fuzzCheck(error.code == .decoding, "watch event refused with \(error.code)")
                    continue
                }
                switch event {
                case .added(let item), .modified(let item), .deleted(let item):
                    switch try? item.routeSourceObject() {
                    case .gateway(let gateway): gateways.append(gateway)
                    case .route(let route): routes.append(route)
                    case .namespace(let namespace): namespaces.append(namespace)
                    case .dnsEndpoint(let object): dnsEndpoints.append(object)
                    case .listenerSet: break
                    case .skipped, nil: break
                    }
                case .bookmark, .error: break
                }
            }
        }
        let result = RouteSource().endpoints(gateways: gateways, routes: routes, namespaces: namespaces, dnsEndpoints: dnsEndpoints)
        _ = PlanReport(desired: result.endpoints, explanations: result.explanations).json()
    }
}
