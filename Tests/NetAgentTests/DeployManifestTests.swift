import Config
import Foundation
import Kube
import Lab
import NetAgent
import TestSupport
import Testing
import Yams

/// The kustomize folder `deploy/` read as a person applying it would: each resource of the
/// kustomization, its references, the Deployment's hardening, and the RBAC compared with what
/// the code asks of the API server. The configuration it carries is validated, never run.
@Suite("deploy/ manifests")
struct DeployManifestTests {
    static let folder = Repository.root.appendingPathComponent("deploy")
    static let namespace = "network"

    /// One YAML document of `deploy/`, with the file it came from.
    struct Object {
        let file: String
        let body: [String: Any]

        var kind: String { body["kind"] as? String ?? "" }
        var name: String { (body["metadata"] as? [String: Any])?["name"] as? String ?? "" }
        var namespace: String? { (body["metadata"] as? [String: Any])?["namespace"] as? String }
        subscript(_ path: String...) -> Any? { Self.dig(body, path) }

        static func dig(_ value: Any?, _ path: [String]) -> Any? {
            path.reduce(value) { ($0 as? [String: Any])?[$1] }
        }
    }

    static func yamlDocuments(_ path: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try Yams.load_all(yaml: text).map { document -> [String: Any] in
            guard let map = document as? [String: Any] else { throw TestSupportError("\(path): a document is not a mapping") }
            return map
        }
    }

    static func kustomization() throws -> [String: Any] {
        try #require(try yamlDocuments(folder.appendingPathComponent("kustomization.yaml").path).first)
    }

    /// Every object the kustomization's `resources` list, in order.
    static func objects() throws -> [Object] {
        let resources = try #require(try kustomization()["resources"] as? [String])
        return try resources.flatMap { file in
            try yamlDocuments(folder.appendingPathComponent(file).path).map { Object(file: file, body: $0) }
        }
    }

    static func only(_ kind: String, in objects: [Object]) throws -> Object {
        let found = objects.filter { $0.kind == kind }
        try #require(found.count == 1, "expected one \(kind), found \(found.count)")
        return found[0]
    }

    /// The generated ConfigMap's name and the configuration file it carries.
    static func configMapGenerator() throws -> (name: String, file: String) {
        let generators = try #require(try kustomization()["configMapGenerator"] as? [[String: Any]])
        try #require(generators.count == 1)
        let name = try #require(generators[0]["name"] as? String)
        let files = try #require(generators[0]["files"] as? [String])
        try #require(files.count == 1)
        return (name, files[0])
    }

    static func config() throws -> NetAgentConfig {
        try NetAgentConfig.load(file: folder.appendingPathComponent(try configMapGenerator().file).path)
    }

    static func deployment() throws -> (deployment: Object, pod: [String: Any], container: [String: Any]) {
        let deployment = try only("Deployment", in: try objects())
        let pod = try #require(deployment["spec", "template", "spec"] as? [String: Any])
        let containers = try #require(pod["containers"] as? [[String: Any]])
        try #require(containers.count == 1)
        return (deployment, pod, containers[0])
    }

    @Test("every file the kustomization names exists and parses; every YAML file in deploy/ is named")
    func kustomizationIsComplete() throws {
        let kustomization = try Self.kustomization()
        #expect(kustomization["namespace"] as? String == Self.namespace)
        let resources = try #require(kustomization["resources"] as? [String])
        for file in resources {
            let documents = try Self.yamlDocuments(Self.folder.appendingPathComponent(file).path)
            #expect(!documents.isEmpty, "\(file) holds no object")
            for document in documents {
                #expect(document["apiVersion"] is String && document["kind"] is String, "\(file): \(document)")
            }
        }
        let generated = try Self.configMapGenerator().file
        let named = Set(resources + [generated, "kustomization.yaml"])
        let present = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".yaml") }
        #expect(Set(present) == named, "files in deploy/ that the kustomization does not name, or the reverse")
    }

    @Test("namespaced objects are in `network`; cluster-scoped ones name no namespace")
    func namespaces() throws {
        let clusterScoped: Set = ["ClusterRole", "ClusterRoleBinding"]
        for object in try Self.objects() {
            if clusterScoped.contains(object.kind) {
                #expect(object.namespace == nil, "\(object.kind) \(object.name)")
            } else {
                #expect(object.namespace == Self.namespace, "\(object.kind) \(object.name) in \(object.file)")
            }
            for subject in object["subjects"] as? [[String: Any]] ?? [] {
                #expect(subject["namespace"] as? String == Self.namespace, "\(object.kind) \(object.name) subject")
            }
        }
    }

    @Test("the Deployment: 2 replicas, non-root, read-only root, no escalation, only NET_RAW, RuntimeDefault seccomp")
    func hardening() throws {
        let (deployment, pod, container) = try Self.deployment()
        #expect(deployment["spec", "replicas"] as? Int == 2)
        let podSecurity = try #require(pod["securityContext"] as? [String: Any])
        let security = try #require(container["securityContext"] as? [String: Any])
        #expect(podSecurity["runAsNonRoot"] as? Bool == true)
        #expect(security["runAsNonRoot"] as? Bool == true)
        #expect(security["readOnlyRootFilesystem"] as? Bool == true)
        #expect(security["allowPrivilegeEscalation"] as? Bool == false)
        #expect(Object.dig(security, ["capabilities", "drop"]) as? [String] == ["ALL"])
        #expect(Object.dig(security, ["capabilities", "add"]) as? [String] == ["NET_RAW"])
        #expect(security["privileged"] == nil && pod["hostNetwork"] == nil && pod["hostPID"] == nil)
        for context in [podSecurity, security] {
            #expect(Object.dig(context, ["seccompProfile", "type"]) as? String == "RuntimeDefault")
        }
        // The user the manifest runs as is the image's USER.
        let user = try #require(security["runAsUser"] as? Int ?? podSecurity["runAsUser"] as? Int)
        #expect(user != 0)
        let dockerfile = try String(contentsOf: Repository.root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        let users = dockerfile.split(separator: "\n").filter { $0.hasPrefix("USER ") }
        #expect(users.map { $0.dropFirst(5).split(separator: ":").first.map(String.init) } == ["\(user)"], "\(users)")
    }

    @Test("the ServiceAccount, ConfigMap, Secret and roles the manifests refer to are objects in deploy/")
    func referencesResolve() throws {
        let objects = try Self.objects()
        let (_, pod, container) = try Self.deployment()
        let names = { (kind: String) in Set(objects.filter { $0.kind == kind }.map(\.name)) }

        let account = try #require(pod["serviceAccountName"] as? String)
        #expect(names("ServiceAccount").contains(account))

        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        let configMaps = volumes.compactMap { Object.dig($0, ["configMap", "name"]) as? String }
        #expect(configMaps == [try Self.configMapGenerator().name])

        // Secrets come from the ExternalSecret's target, with the keys it fills.
        let external = try Self.only("ExternalSecret", in: objects)
        #expect(external["apiVersion"] as? String == "external-secrets.io/v1")
        #expect(external["spec", "secretStoreRef", "kind"] as? String == "ClusterSecretStore")
        let target = external["spec", "target", "name"] as? String ?? external.name
        let keys = Set((external["spec", "data"] as? [[String: Any]] ?? []).compactMap { $0["secretKey"] as? String })
        let env = try #require(container["env"] as? [[String: Any]])
        let secretRefs = env.compactMap { Object.dig($0, ["valueFrom", "secretKeyRef"]) as? [String: Any] }
        #expect(!secretRefs.isEmpty)
        for ref in secretRefs {
            #expect(ref["name"] as? String == target, "\(ref)")
            #expect(keys.contains(ref["key"] as? String ?? ""), "\(ref) is not among the ExternalSecret's keys \(keys)")
        }

        // The bindings give the roles in deploy/ to the ServiceAccount.
        for (binding, role) in [("ClusterRoleBinding", "ClusterRole"), ("RoleBinding", "Role")] {
            let object = try Self.only(binding, in: objects)
            #expect(object["roleRef", "kind"] as? String == role)
            #expect(names(role).contains(object["roleRef", "name"] as? String ?? ""))
            let subjects = object["subjects"] as? [[String: Any]] ?? []
            #expect(subjects.map { "\($0["kind"] ?? "")/\($0["name"] ?? "")" } == ["ServiceAccount/\(account)"])
        }
    }

    @Test("the configuration passes NetAgentConfig.load and fits the pod: in-cluster source, leader election, state on a volume, secrets from the env")
    func configuration() throws {
        let config = try Self.config()
        let (_, pod, container) = try Self.deployment()
        #expect(config.sources.kubernetes == SourcesConfig.KubernetesSource())
        #expect(config.leaderElection.enabled)

        // The state file lies on an emptyDir mounted writable (the root file system is read-only).
        let mounts = try #require(container["volumeMounts"] as? [[String: Any]])
        let volumes = try #require(pod["volumes"] as? [[String: Any]])
        let stateMount = mounts.first { config.state.path.hasPrefix(($0["mountPath"] as? String ?? "\0") + "/") }
        let mount = try #require(stateMount, "no volume holds \(config.state.path)")
        #expect(mount["readOnly"] as? Bool != true)
        let volume = volumes.first { $0["name"] as? String == mount["name"] as? String }
        #expect(volume?["emptyDir"] != nil, "\(String(describing: volume))")
        // The configuration file is where the container's arguments look for it.
        let configMount = try #require(mounts.first { $0["name"] as? String == "config" })
        let args = try #require(container["args"] as? [String])
        let configPath = try #require(args.firstIndex(of: "--config").map { args[$0 + 1] })
        #expect(configPath == "\(configMount["mountPath"] as? String ?? "")/\(try Self.configMapGenerator().file)")

        // Every secret variable the configuration names is set from the Secret, and nothing else is.
        var named: Set<String> = []
        for provider in config.providers {
            switch provider.kind {
            case .cloudflare(let settings): if case .env(let name) = settings.apiToken { named.insert(name) }
            case .pihole(let settings): if case .env(let name)? = settings.password { named.insert(name) }
            }
        }
        if case .env(let name)? = config.alerting?.smtp.password { named.insert(name) }
        let env = try #require(container["env"] as? [[String: Any]])
        let fromSecret = Set(env.filter { Object.dig($0, ["valueFrom", "secretKeyRef"]) != nil }.compactMap { $0["name"] as? String })
        #expect(fromSecret == named)

        // The downward API gives the election its identity and namespace.
        let fields = Dictionary(env.compactMap { item -> (String, String)? in
            guard let name = item["name"] as? String,
                  let path = Object.dig(item, ["valueFrom", "fieldRef", "fieldPath"]) as? String else { return nil }
            return (name, path)
        }, uniquingKeysWith: { first, _ in first })
        #expect(fields == ["POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"])
    }

    @Test("server.listen's port is the container's `http` port, probed on /healthz and /readyz, served and scraped")
    func port() throws {
        let config = try Self.config()
        let objects = try Self.objects()
        let (deployment, _, container) = try Self.deployment()
        let ports = try #require(container["ports"] as? [[String: Any]])
        let http = try #require(ports.first { $0["name"] as? String == "http" })
        #expect(http["containerPort"] as? Int == config.server.listen.port)
        #expect(Object.dig(container, ["livenessProbe", "httpGet", "path"]) as? String == "/healthz")
        #expect(Object.dig(container, ["readinessProbe", "httpGet", "path"]) as? String == "/readyz")
        for probe in ["livenessProbe", "readinessProbe"] {
            #expect(Object.dig(container, [probe, "httpGet", "port"]) as? String == "http")
        }

        let labels = try #require(deployment["spec", "template", "metadata", "labels"] as? [String: String])
        let service = try Self.only("Service", in: objects)
        let selector = try #require(service["spec", "selector"] as? [String: String])
        #expect(selector.allSatisfy { labels[$0.key] == $0.value }, "\(selector) does not select \(labels)")
        let servicePorts = try #require(service["spec", "ports"] as? [[String: Any]])
        #expect(servicePorts.map { $0["targetPort"] as? String } == ["http"])
        let monitor = try Self.only("ServiceMonitor", in: objects)
        let monitorSelector = try #require(monitor["spec", "selector", "matchLabels"] as? [String: String])
        let serviceLabels = try #require(service["metadata", "labels"] as? [String: String])
        #expect(monitorSelector.allSatisfy { serviceLabels[$0.key] == $0.value })
        let endpoints = try #require(monitor["spec", "endpoints"] as? [[String: Any]])
        #expect(endpoints.map { $0["port"] as? String } == servicePorts.map { $0["name"] as? String })
        #expect(endpoints.map { $0["path"] as? String } == ["/metrics"])
    }

    @Test("memory is requested and limited: the request no more than the limit, neither below what was measured")
    func resources() throws {
        let (_, _, container) = try Self.deployment()
        let request = try #require(Object.dig(container, ["resources", "requests", "memory"]) as? String)
        let limit = try #require(Object.dig(container, ["resources", "limits", "memory"]) as? String)
        let bytes = { (text: String) -> Int? in
            let units = ["Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30]
            guard let unit = units.first(where: { text.hasSuffix($0.key) }) else { return Int(text) }
            return Int(text.dropLast(2)).map { $0 * unit.value }
        }
        let requested = try #require(bytes(request)), limited = try #require(bytes(limit))
        #expect(requested <= limited)
        // What scripts/bench-daemon measured on the static build (BENCHMARKS.md, "Daemon"): a
        // seed-size agent holds 35.1 MiB steady, one with 10,000 routes peaks at 67.9 MiB.
        #expect(requested >= 36 << 20, "the request is below a seed-size agent's measured steady use")
        #expect(limited >= 68 << 20, "the limit is below the 10,000-route peak measured")
    }

    /// The rules of a Role or ClusterRole as (group, resource, verb) triples.
    static func grants(_ role: Object) -> Set<String> {
        var grants: Set<String> = []
        for rule in role["rules"] as? [[String: Any]] ?? [] {
            for group in rule["apiGroups"] as? [String] ?? [] {
                for resource in rule["resources"] as? [String] ?? [] {
                    for verb in rule["verbs"] as? [String] ?? [] { grants.insert("\(group)/\(resource):\(verb)") }
                }
            }
        }
        return grants
    }

    static func grants(_ access: [KubeAccess]) -> Set<String> {
        Set(access.flatMap { item in item.verbs.map { "\(item.resource.group)/\(item.ruleResource):\($0.rawValue)" } })
    }

    @Test("the ClusterRole grants exactly what the route source reads, the Role exactly the Lease and ledger writes")
    func rbacEqualsTheCode() throws {
        let objects = try Self.objects()
        #expect(Self.grants(try Self.only("ClusterRole", in: objects)) == Self.grants(KubeAccess.clusterWide))
        #expect(Self.grants(try Self.only("Role", in: objects)) == Self.grants(KubeAccess.ownNamespace))
    }

    /// `/apis/G/V[/namespaces/N]/R[/NAME]` or `/api/V/...` as (group, resource, names an object);
    /// nil for discovery and other non-resource paths.
    static func resourceOf(_ path: String) -> (group: String, resource: String, namesObject: Bool)? {
        var parts = path.split(separator: "/").map(String.init)
        var group = ""
        if parts.first == "apis", parts.count >= 4 {
            group = parts[1]
            parts.removeFirst(3)
        } else if parts.first == "api", parts.count >= 3 {
            parts.removeFirst(2)
        } else {
            return nil
        }
        if parts.first == "namespaces", parts.count >= 3 { parts.removeFirst(2) }
        guard let resource = parts.first else { return nil }
        if parts.count == 3 { return (group, resource + "/" + parts[2], true) }  // a subresource: dnsendpoints/status
        return (group, resource, parts.count > 1)
    }

    @Test("every request the route source makes of a cluster (informers, one-shot lists, the DNSEndpoint status write) is allowed by the ClusterRole")
    func requestsAreGranted() async throws {
        let granted = Self.grants(try Self.only("ClusterRole", in: try Self.objects()))
        let kube = try await DaemonTests.seeded()
        _ = try await kube.create(.httpRoutes, json: GatewayFixtures.routeJSON("grafana", hosts: ["grafana.home.test"]))
        _ = try await kube.create(.dnsEndpoints, json: #"{"metadata":{"name":"tunnel","namespace":"network"},"spec":{"endpoints":[{"dnsName":"external.home.test","recordType":"CNAME","targets":["t.cfargotunnel.com"]}]}}"#)
        try await kube.withRunning { url in
            let client = KubeClient(connection: ClusterConnection(server: url))
            let routes = ClusterRoutes(client: client)
            let running = Task { await routes.run() }
            defer { running.cancel() }
            try await eventually("the informers have listed") { await routes.isReady() }
            try await eventually("every informer watches") { await kube.openWatches() >= ClusterRoutes.resources.count }
            let once = await ClusterRoutes.listOnce(client: client)
            #expect(once.problems.isEmpty, "\(once.problems)")
            #expect(once.routes.count == 1)
            #expect(await ObservedGenerationWriter(client: client).acknowledge(once.dnsEndpoints).isEmpty)
        }
        let requests = await kube.requests()
        #expect(requests.contains { $0.isWatch })
        var used: Set<String> = []
        for request in requests {
            guard let target = Self.resourceOf(request.path) else { continue }
            let verb = try #require(KubeAccess.verb(method: request.method, namesObject: target.namesObject, isWatch: request.isWatch))
            used.insert("\(target.group)/\(target.resource):\(verb.rawValue)")
        }
        #expect(used.isSubset(of: granted), "asked for \(used.subtracting(granted).sorted()) without a grant")
        #expect(used == granted, "granted but never used: \(granted.subtracting(used).sorted())")
    }

    @Test("`kubectl kustomize deploy/` builds: the Deployment mounts the generated, hash-named ConfigMap",
          .enabled(if: Repository.which("kubectl") != nil || Repository.isCI, "needs kubectl"))
    func kustomizeBuilds() async throws {
        let kubectl = try #require(Repository.which("kubectl"), "kubectl is not installed (scripts/setup installs Debian's kubernetes-client)")
        let run = try await Netagent.run(URL(fileURLWithPath: kubectl), ["kustomize", Self.folder.path])
        #expect(run.status == 0, "\(run.stderr)")
        let documents = try Yams.load_all(yaml: run.stdout).compactMap { $0 as? [String: Any] }.map { Object(file: "build", body: $0) }
        let generated = try Self.only("ConfigMap", in: documents)
        let prefix = try Self.configMapGenerator().name + "-"
        #expect(generated.name.hasPrefix(prefix) && generated.name.count > prefix.count, "\(generated.name)")
        #expect(generated.namespace == Self.namespace)
        let deployment = try Self.only("Deployment", in: documents)
        let volumes = deployment["spec", "template", "spec", "volumes"] as? [[String: Any]] ?? []
        #expect(volumes.contains { Object.dig($0, ["configMap", "name"]) as? String == generated.name })
        let data = try #require(generated["data"] as? [String: String])
        let text = try #require(data[try Self.configMapGenerator().file])
        _ = try NetAgentConfig.parse(yaml: text, file: "ConfigMap \(generated.name)", baseDirectory: "/etc/netagent")
    }
}
