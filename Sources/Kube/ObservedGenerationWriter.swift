/// Writes `status.observedGeneration` back to each DNSEndpoint whose generation netagent has
/// read, as external-dns's `crd` source does after reading it (`source/crd.go`: a PUT of the
/// status subresource when the two differ). A write that fails is said once per object and
/// generation, never retried in a loop: the next read of a newer generation tries again.
public actor ObservedGenerationWriter {
    let client: KubeClient
    /// `NS/NAME@generation` already written or tried, of the objects of the last call only (an
    /// object deleted or edited since drops out, so the set never outgrows the cluster's objects).
    private var done: Set<String> = []

    public init(client: KubeClient) {
        self.client = client
    }

    /// Writes the generation of every object in `objects` whose status lags behind it, and
    /// returns the failures in words. Objects without a generation (manifests) are skipped.
    @discardableResult
    public func acknowledge(_ objects: [DNSEndpoint]) async -> [String] {
        var failures: [String] = []
        let key = { (object: DNSEndpoint) in "\(object.metadata.namespace)/\(object.metadata.name)@\(object.generation)" }
        done.formIntersection(objects.map(key))
        for object in objects where object.generation > 0 && object.observedGeneration != object.generation {
            guard done.insert(key(object)).inserted else { continue }
            let body: JSONValue = .object([
                "metadata": .object([
                    "name": .string(object.metadata.name), "namespace": .string(object.metadata.namespace),
                    "resourceVersion": .string(object.resourceVersion),
                ]),
                "status": .object(["observedGeneration": .int(Int64(object.generation))]),
            ])
            do {
                _ = try await client.replaceStatus(.dnsEndpoints, namespace: object.metadata.namespace, object: body)
            } catch {
                failures.append("could not write status.observedGeneration of \(object.resourceLabel): \(error)")
            }
        }
        return failures
    }
}

extension ObservedGenerationWriter {
    /// What the writer asks of the API server: update on `dnsendpoints/status`.
    public static let access = KubeAccess(resource: .dnsEndpoints, subresource: "status", verbs: [.update])
}
