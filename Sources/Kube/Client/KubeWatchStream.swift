import Foundation
import NetIO

/// The events of one watch, decoded as their bytes arrive (an event may span pieces, a piece
/// may hold several events). Ends when the server closes the stream; throws a `.transport`
/// KubeError when the connection breaks and a `.decoding` one on bytes that are not events.
/// Leaving the loop or cancelling its task ends the HTTP transfer.
public struct KubeWatchStream: AsyncSequence, Sendable {
    public typealias Element = WatchEvent
    let body: HTTPBodyStream
    let resource: KubeResource
    let path: String

    public struct AsyncIterator: AsyncIteratorProtocol {
        var pieces: HTTPBodyStream.AsyncIterator
        var framer = JSONObjectFramer()
        var pending: [Data] = []
        let resource: KubeResource
        let path: String

        public mutating func next() async throws -> WatchEvent? {
            while pending.isEmpty {
                let piece: Data?
                do { piece = try await pieces.next() } catch let error as NetIOError {
                    throw KubeError(code: .transport, message: "watch broke: \(error.description)", path: path, underlying: error)
                }
                guard let piece else {
                    if !framer.isAtBoundary {
                        throw KubeError(code: .transport, message: "watch ended inside an event", path: path)
                    }
                    return nil
                }
                do { pending = try framer.append(piece) } catch { throw error.withPath(path) }
            }
            let data = pending.removeFirst()
            let json: JSONValue
            do { json = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
                throw KubeError(code: .decoding, message: "watch event is not JSON: \(error)", path: path)
            }
            do { return try WatchEvent(json: json, resource: resource) } catch { throw error.withPath(path) }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(pieces: body.makeAsyncIterator(), resource: resource, path: path)
    }
}

extension KubeError {
    func withPath(_ path: String) -> KubeError {
        var copy = self
        copy.path = path
        return copy
    }
}
