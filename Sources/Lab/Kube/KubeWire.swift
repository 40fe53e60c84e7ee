import Foundation

/// JSON as the Kubernetes API server writes it: Status bodies, lists, watch events.
enum KubeWire {
    static func status(code: Int, reason: String, message: String, details: [String: Any] = [:]) -> Data {
        var object: [String: Any] = [
            "kind": "Status", "apiVersion": "v1", "metadata": [String: Any](), "status": "Failure",
            "message": message, "reason": reason, "code": code,
        ]
        if !details.isEmpty { object["details"] = details }
        return encode(object)
    }

    static func notFound() -> Data {
        status(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }

    static func expired(_ message: String) -> Data { status(code: 410, reason: "Expired", message: message) }

    static let expiredContinue = "The provided continue parameter is too old to display a consistent list result. "
        + "You can start a new list without the continue parameter, or use the continue token in this response "
        + "to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent "
        + "list - objects that were created, modified, or deleted between the time the first chunk was returned and "
        + "now may show up in the list."

    static func list(kind: String, apiVersion: String, resourceVersion: Int, continueToken: String?, items: [Data]) -> Data {
        var metadata = #"{"resourceVersion":"\#(resourceVersion)""#
        if let continueToken { metadata += #","continue":"\#(continueToken)""# }
        metadata += "}"
        var data = Data(#"{"kind":"\#(kind)List","apiVersion":"\#(apiVersion)","metadata":\#(metadata),"items":["#.utf8)
        for (index, item) in items.enumerated() {
            if index > 0 { data.append(UInt8(ascii: ",")) }
            data.append(item)
        }
        data.append(contentsOf: Array("]}".utf8))
        return data
    }

    /// One watch event and its newline.
    static func event(_ type: String, _ object: Data) -> Data {
        var data = Data(#"{"type":"\#(type)","object":"#.utf8)
        data.append(object)
        data.append(contentsOf: Array("}\n".utf8))
        return data
    }

    static func bookmark(_ resource: SimulatedResource, resourceVersion: Int) -> Data {
        event("BOOKMARK", Data(#"{"kind":"\#(resource.kind)","apiVersion":"\#(resource.apiVersion)","metadata":{"resourceVersion":"\#(resourceVersion)"}}"#.utf8))
    }

    /// An APIGroup (V1APIGroup: name, versions of V1GroupVersionForDiscovery, preferredVersion);
    /// `kind`: with kind and apiVersion, as `/apis/GROUP` answers it (inside APIGroupList the
    /// apiserver leaves them out).
    static func groupObject(_ group: String, versions: [String], kind: Bool = false) -> [String: Any] {
        let entries = versions.map { ["groupVersion": group + "/" + $0, "version": $0] }
        var object: [String: Any] = ["name": group, "versions": entries, "preferredVersion": entries.first ?? [:]]
        if kind {
            object["kind"] = "APIGroup"
            object["apiVersion"] = "v1"
        }
        return object
    }

    /// An APIResourceList (V1APIResourceList: groupVersion, resources of V1APIResource with name,
    /// singularName, namespaced, kind, verbs).
    static func resourceList(_ groupVersion: String, _ resources: [SimulatedResource]) -> Data {
        encode([
            "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": groupVersion,
            "resources": resources.map {
                ["name": $0.plural, "singularName": $0.singular, "namespaced": $0.namespaced, "kind": $0.kind, "verbs": $0.verbs]
                    as [String: Any]
            },
        ])
    }

    /// `/version`: the fields of the Python client's VersionInfo model (all required there). The
    /// numbers are those of the Kubernetes release the simulator stands for, not measured.
    static let version = encode([
        "major": "1", "minor": "33", "gitVersion": "v1.33.0", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24.2", "compiler": "gc",
        "platform": "linux/amd64",
    ])

    static func encode(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }
}
