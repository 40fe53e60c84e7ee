import Foundation

/// What the apiserver checks on a `coordination.k8s.io/v1` Lease before storing it: the spec
/// must decode (400 BadRequest: `acquireTime`/`renewTime` are MicroTime, RFC 3339 with exactly
/// six fractional digits, as Go parses `2006-01-02T15:04:05.000000Z07:00`; the durations are
/// integers) and then validate (422 Invalid: `leaseDurationSeconds` > 0, `leaseTransitions` ≥ 0).
enum LeaseValidation {
    static let microTimeLayout = "2006-01-02T15:04:05.000000Z07:00"
    /// A `Regex` is not `Sendable`, so each check makes its own (a literal: checked when compiled).
    static var microTime: Regex<(Substring, Substring)> { #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/# }

    static func check(_ object: [String: Any], name: String) throws(SimulatorError) {
        guard let spec = object["spec"] else { return }
        func badRequest(_ detail: String) -> SimulatorError {
            SimulatorError("Lease in version \"v1\" cannot be handled as a Lease: \(detail)", code: 400, reason: "BadRequest")
        }
        guard let spec = spec as? [String: Any] else { throw badRequest("json: cannot unmarshal into Go struct field Lease.spec") }
        for field in ["acquireTime", "renewTime"] {
            guard let value = spec[field], !(value is NSNull) else { continue }
            guard let text = value as? String else {
                throw badRequest("json: cannot unmarshal into Go struct field LeaseSpec.spec.\(field) of type string")
            }
            if (try? microTime.wholeMatch(in: text)) == nil {
                throw badRequest("parsing time \"\(text)\" as \"\(microTimeLayout)\": cannot parse \"\(text)\" as MicroTime")
            }
        }
        var causes: [(field: String, message: String)] = []
        for (field, minimum, words) in [("leaseDurationSeconds", 1, "must be greater than 0"),
                                        ("leaseTransitions", 0, "must be greater than or equal to 0")] {
            guard let value = spec[field], !(value is NSNull) else { continue }
            guard let number = value as? NSNumber, let integer = Int32(exactly: number.doubleValue)
            else { throw badRequest("json: cannot unmarshal into Go struct field LeaseSpec.spec.\(field) of type int32") }
            if Int(integer) < minimum { causes.append(("spec.\(field)", "Invalid value: \(integer): \(words)")) }
        }
        if let holder = spec["holderIdentity"], !(holder is NSNull), !(holder is String) {
            throw badRequest("json: cannot unmarshal into Go struct field LeaseSpec.spec.holderIdentity of type string")
        }
        guard causes.isEmpty else {
            let list = causes.map { "\($0.field): \($0.message)" }.joined(separator: ", ")
            let message = "Lease.coordination.k8s.io \"\(name)\" is invalid: " + (causes.count == 1 ? list : "[\(list)]")
            throw SimulatorError(message, code: 422, reason: "Invalid", resource: .leases, name: name, causes: causes)
        }
    }
}
