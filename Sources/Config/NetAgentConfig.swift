import Foundation
import YAMLInput
import NetIO
import Yams

/// The whole configuration file, typed and validated.
///
/// Load with ``load(file:)``; every problem of the file comes back at once in a
/// ``ConfigError``. Loading never reads secrets or touches the network: call
/// ``resolveSecrets(environment:)`` before using the providers or the relay.
public struct NetAgentConfig: Hashable, Sendable {
    public var cluster: ClusterConfig
    public var sources: SourcesConfig
    public var providers: [ProviderConfig]
    public var reconcile: ReconcileConfig
    public var leaderElection: LeaderElectionConfig
    public var probes: ProbesConfig
    /// nil when no alert mail is sent.
    public var alerting: AlertingConfig?
    public var state: StateConfig
    public var server: ServerConfig

    /// The top-level keys, in the order of the example file and the reference.
    static let topLevelKeys = ["cluster", "sources", "providers", "reconcile", "leaderElection", "probes",
                               "alerting", "state", "server"]

    /// The largest configuration file read (the example is 10 KiB); a larger one, or one that
    /// is not a regular file, is refused unread.
    public static let maxFileBytes = 1 << 20

    /// Reads and validates `file`. Relative paths inside it are taken from its folder.
    /// - Throws: ``ConfigError`` for an unreadable file, a YAML syntax error or any invalid key.
    public static func load(file: String) throws(ConfigError) -> NetAgentConfig {
        let fail = { (message: String) in
            ConfigError(file: file, issues: [ConfigIssue(file: file, line: 0, path: "", message: message)])
        }
        let data: Data
        do {
            data = try BoundedFile.read(file, maxBytes: maxFileBytes).data
        } catch {
            throw fail("cannot read: \(error.description)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw fail("cannot read: the file is not UTF-8 text") }
        let absolute = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        let folder = (absolute as NSString).deletingLastPathComponent
        return try parse(yaml: text, file: file, baseDirectory: folder)
    }

    /// Validates YAML text; `file` only names it in errors, `baseDirectory` anchors relative paths.
    /// - Throws: ``ConfigError`` with every problem, sorted by line.
    public static func parse(yaml: String, file: String, baseDirectory: String) throws(ConfigError) -> NetAgentConfig {
        let diag = ConfigIssueLog(file: file, baseDirectory: baseDirectory)
        let fail = { (line: Int, message: String) in
            ConfigError(file: file, issues: [ConfigIssue(file: file, line: line, path: "", message: message)])
        }
        if let (line, depth) = YAMLLimits.tooDeep(yaml[...]) {
            throw fail(line, "YAML nested \(depth) deep, above the \(YAMLLimits.maxDepth)-level limit")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(file: file, issues: [syntaxIssue(error, file: file)])
        }
        guard let root else { throw fail(1, "the file is empty") }
        guard YAMLLimits.nodeCount(root, limit: YAMLLimits.maxConfigNodes) != nil else {
            throw fail(1, "more than \(YAMLLimits.maxConfigNodes) YAML nodes (aliases expanded), the limit for a configuration")
        }
        let config = read(Field(node: root, path: "", diag: diag))
        guard diag.issues.isEmpty, let config else {
            throw ConfigError(file: file, issues: diag.issues)
        }
        return config
    }

    private static func read(_ root: Field) -> NetAgentConfig? {
        guard let map = root.mapping() else { return nil }
        defer { map.finish() }
        let cluster = map.required("cluster").flatMap(ClusterConfig.read)
        let sources = map.optional("sources").flatMap(SourcesConfig.read) ?? SourcesConfig()
        let probes = map.optional("probes").flatMap {
            ProbesConfig.read($0, clusterMTU: cluster?.mtu ?? 1500, hasVIP: cluster?.vip != nil)
        } ?? ProbesConfig()
        let providers = readProviders(map.optional("providers"), tunnelID: probes.tunnel?.tunnelID)
        let reconcile = map.optional("reconcile").flatMap(ReconcileConfig.read) ?? ReconcileConfig()
        let election = map.optional("leaderElection").flatMap(LeaderElectionConfig.read) ?? LeaderElectionConfig()
        let alerting = map.optional("alerting").flatMap(AlertingConfig.read)
        let state = map.optional("state").flatMap(StateConfig.read) ?? StateConfig()
        let server = ServerConfig.read(map.optional("server"))
        guard let cluster, let server else { return nil }
        return NetAgentConfig(cluster: cluster, sources: sources, providers: providers, reconcile: reconcile,
                              leaderElection: election, probes: probes, alerting: alerting, state: state,
                              server: server)
    }

    private static func readProviders(_ field: Field?, tunnelID: UUID?) -> [ProviderConfig] {
        let read = field?.list()?.map { ProviderConfig.read($0, tunnelID: tunnelID) } ?? []
        var firstLine: [String: Int] = [:]
        for case let (name?, nameField?) in read.map({ ($0.name, $0.nameField) }) {
            if let line = firstLine[name] {
                nameField.fail("duplicate provider name '\(name)' (first at line \(line))")
            } else {
                firstLine[name] = nameField.line
            }
        }
        return read.compactMap(\.config)
    }

    /// A YAML syntax error as an issue, with the line libyaml reports.
    private static func syntaxIssue(_ error: any Error, file: String) -> ConfigIssue {
        let issue = { (line: Int, message: String) in
            ConfigIssue(file: file, line: line, path: "", message: "YAML syntax error: \(message)")
        }
        guard let yaml = error as? YamlError else { return issue(0, "\(error)") }
        switch yaml {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) (\($0.text) at line \($0.mark.line))" } ?? problem
            return issue(mark.line, detail)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return issue(context.mark.line, "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping")
        case .reader(let problem, _, _, _):
            return issue(0, problem)
        default:
            return issue(0, "\(yaml)")
        }
    }
}
