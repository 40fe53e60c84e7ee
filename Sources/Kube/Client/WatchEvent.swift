public import Foundation
public import NetIO

/// One event of a watch stream.
public enum WatchEvent: Sendable, Hashable {
    case added(KubeObject)
    case modified(KubeObject)
    /// Carries the object's last state.
    case deleted(KubeObject)
    /// Only advances the resource version; the server may never send one.
    case bookmark(resourceVersion: String)
    /// A Status from the server; code 410 (reason Expired or Gone) means relist.
    case error(KubeStatus)

    /// Reads one `{"type": …, "object": …}` event. Throws a `.decoding` KubeError on anything else.
    public init(json: JSONValue, resource: KubeResource) throws(KubeError) {
        guard let type = json["type"]?.stringValue, let object = json["object"] else {
            throw KubeError(code: .decoding, message: "watch event without type or object")
        }
        func item() -> KubeObject { KubeObject(raw: object, defaultKind: resource.kind, defaultAPIVersion: resource.apiVersion) }
        switch type {
        case "ADDED": self = .added(item())
        case "MODIFIED": self = .modified(item())
        case "DELETED": self = .deleted(item())
        case "BOOKMARK": self = .bookmark(resourceVersion: item().resourceVersion)
        case "ERROR":
            self = .error(KubeStatus(object) ?? KubeStatus(code: 0, reason: "", message: "ERROR event without a Status"))
        default:
            throw KubeError(code: .decoding, message: "unknown watch event type \(type)")
        }
    }
}

/// Cuts a byte stream of back-to-back JSON objects ("self-framing", newline-separated in
/// practice) into whole objects, however the bytes were split into pieces. Objects larger
/// than `maxObjectSize` are refused.
public struct JSONObjectFramer: Sendable {
    public let maxObjectSize: Int
    private var buffer: [UInt8] = []
    private var scanned = 0
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var start: Int?

    public init(maxObjectSize: Int = HTTPBodyLimit.kubernetesWatchEvent) {
        self.maxObjectSize = maxObjectSize
    }

    /// Adds a piece and returns every object it completes, in order.
    public mutating func append(_ piece: Data) throws(KubeError) -> [Data] {
        buffer.append(contentsOf: piece)
        var objects: [Data] = []
        var index = scanned
        while index < buffer.count {
            let byte = buffer[index]
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                if depth == 0 { start = index }
                depth += 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
                if depth < 0 { throw KubeError(code: .decoding, message: "watch stream: unbalanced JSON") }
                if depth == 0, let begin = start {
                    // A whole object can arrive in one piece: bound it here too.
                    guard index - begin + 1 <= maxObjectSize else {
                        throw KubeError(code: .decoding, message: "watch stream: an object larger than \(maxObjectSize) bytes")
                    }
                    objects.append(Data(buffer[begin...index]))
                    start = nil
                }
            } else if depth == 0, !(byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09) {
                throw KubeError(code: .decoding, message: "watch stream: unexpected byte \(byte) between objects")
            }
            index += 1
        }
        // Drop what is consumed; keep the object in progress.
        let keepFrom = start ?? buffer.count
        buffer.removeFirst(keepFrom)
        scanned = buffer.count
        if start != nil { start = 0 }
        if buffer.count > maxObjectSize {
            throw KubeError(code: .decoding, message: "watch stream: an object larger than \(maxObjectSize) bytes")
        }
        return objects
    }

    /// True when the stream ended between objects (nothing half-read).
    public var isAtBoundary: Bool { start == nil && depth == 0 }
}
