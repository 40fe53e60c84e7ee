import ArgumentParser
import Foundation
import Kube
import Logging
import NetAgent
import PlanOutput

/// `netagent plan`: the DNS records the Gateway API routes ask for, computed as external-dns
/// computes them, from manifests on disk. Bad input is reported on standard error and the
/// rest still counts, and the exit code is 1; a bad flag is refused before anything is read
/// (exit 2). With `--against`/`--against-git`, the records a pull request changes.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the DNS records that Gateway API routes ask for (a dry run, changes nothing).",
        discussion: """
            Reads Gateways, HTTPRoutes, GRPCRoutes, Namespaces and DNSEndpoints from --manifests (files or folders of \
            *.yaml/*.yml, searched recursively). Objects with status are taken as they are; objects \
            without status get the status a gateway controller would report. Filters carry external-dns's names.
            With --config, the configured sources are read too (the manifests and the cluster's API), and for \
            each provider instance the changes a reconcile would make are shown; providers are only read.
            With --against BASE or --against-git REV, the records that would be created, updated and deleted \
            between the base tree and --manifests, per target (no provider is read).
            Exit status: 0, 1 when an input error was reported, 2 for bad flags.
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json, markdown
    }

    @Option(name: .customLong("manifests"), help: "A manifest file or folder (repeatable).")
    var manifests: [String] = []

    @Option(help: "A configuration file: its sources are read and each provider's changes are shown (read-only).")
    var config: String?

    @Option(name: .customLong("repo-root"),
            help: ArgumentHelp("The repository root Flux Kustomizations' spec.path is relative to (default: the folder above --manifests holding .git).", valueName: "DIR"))
    var repoRoot: String?

    @Option(help: ArgumentHelp("Only this cluster's objects: the folder clusters/NAME or kubernetes/NAME below each --manifests path.", valueName: "NAME"))
    var cluster: String?

    @Option(name: .customLong("against"),
            help: ArgumentHelp("The base tree of a pull request (repeatable, like --manifests): show the records that change from it.", valueName: "PATH"))
    var against: [String] = []

    @Option(name: .customLong("against-git"),
            help: ArgumentHelp("The base tree is this commit of the repository --manifests is in (read with git archive).", valueName: "REV"))
    var againstGit: String?

    @Option(name: .customLong("manifest-namespace"),
            help: ArgumentHelp("Namespace for objects without one that are read at or below PATH (repeatable).", valueName: "PATH=NS"))
    var manifestNamespaces: [String] = []

    @Option(name: .customLong("default-namespace"),
            help: ArgumentHelp("Namespace for namespaced objects that still have none after kustomizations and Flux (default: default).", valueName: "NS"))
    var defaultNamespace: String?

    @Option(name: .customLong("var"),
            help: ArgumentHelp("A value for a Flux postBuild variable ${NAME}, as substituteFrom would give it (repeatable).", valueName: "NAME=VALUE"))
    var variables: [String] = []

    @Option(name: .customLong("vars-file"),
            help: ArgumentHelp("Values for Flux postBuild variables: dotenv lines, a YAML map, or a Secret/ConfigMap (repeatable; --var wins).", valueName: "FILE"))
    var varsFiles: [String] = []

    @Option(help: ArgumentHelp("Address for a Gateway without status, instead of its spec.addresses (repeatable).", valueName: "NS/NAME=ADDR"))
    var gatewayAddress: [String] = []

    @Option(help: "Only parents whose Gateway has this name.")
    var gatewayName: String?

    @Option(help: "Only Gateways in this namespace.")
    var gatewayNamespace: String?

    @Option(help: "Only Gateways whose labels match this selector.")
    var gatewayLabelFilter: String?

    @Option(help: "Only routes in this namespace.")
    var namespace: String?

    @Option(help: "Only routes whose labels match this selector.")
    var labelFilter: String?

    @Option(help: "Only routes whose annotations match this selector.")
    var annotationFilter: String?

    @Flag(help: "Ignore the hostname annotation on routes.")
    var ignoreHostnameAnnotation = false

    @Option(help: ArgumentHelp("Names for routes that give none: a Go template over the route (.Name, .Namespace, .Kind, .Labels.KEY, .Annotations.KEY).", valueName: "TEMPLATE"))
    var fqdnTemplate: String?

    @Flag(help: "Add the --fqdn-template names to every route's own names.")
    var combineFQDNAnnotation = false

    @Flag(help: "Let routes attach through ListenerSets (off by default, as in external-dns).")
    var gatewayListenerSets = false

    @Option(help: "Only names equal to or below this domain (repeatable).")
    var domainFilter: [String] = []

    @Option(help: "Never names equal to or below this domain (repeatable).")
    var excludeDomains: [String] = []

    @Option(help: ArgumentHelp("Annotation prefix, in order of precedence (repeatable; default: both external-dns prefixes).", valueName: "prefix"))
    var annotationPrefix: [String] = []

    @Option(help: ArgumentHelp("Sources to read, as external-dns names them (repeatable; default: all).", valueName: "gateway-httproute|gateway-grpcroute|crd"))
    var source: [String] = []

    @Flag(help: "Do not take provider-specific annotations on a Gateway as defaults for its routes (external-dns ignores them).")
    var noGatewayProviderDefaults = false

    @Option(help: "table, json, or markdown (with --against/--against-git: a pull-request comment).")
    var output: OutputFormat = .table

    @Flag(help: "Say why each route produced fewer records than it names.")
    var explain = false

    @Flag(help: .private)
    var parseOnly = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard !manifests.isEmpty || config != nil else {
            throw ValidationError("give --manifests PATH (repeatable), --config FILE, or both")
        }
        if !against.isEmpty, againstGit != nil { throw ValidationError("give --against PATH or --against-git REV, not both") }
        if isComparing, manifests.isEmpty { throw ValidationError("--against and --against-git compare with --manifests PATH") }
        if output == .markdown, !isComparing { throw ValidationError("--output markdown goes with --against or --against-git") }
        if let cluster, cluster.isEmpty || cluster.contains("/") { throw ValidationError("--cluster '\(cluster)' is not a folder name") }
        if cluster != nil, manifests.isEmpty { throw ValidationError("--cluster selects within --manifests PATH") }
        _ = try manifestOptions()
        _ = try sourceOptions()
    }

    private var isComparing: Bool { !against.isEmpty || againstGit != nil }

    func run() async throws {
        global.bootstrapLogging()
        if isComparing {
            try await PlanComparison(command: self).run()
            return
        }
        if let config {
            try await runWithConfig(config)
            return
        }
        if parseOnly {
            let count = ManifestLoader.parseOnly(paths: manifests)
            print("parsed \(count.documents) documents from \(count.files) files (\(count.failures) failed)")
            return
        }
        let set = ManifestLoader.load(paths: try clusterPaths(manifests), options: try manifestOptions())
        let result = RouteSource(options: try sourceOptions())
            .endpoints(gateways: set.gateways, routes: set.routes, namespaces: set.namespaces, dnsEndpoints: set.dnsEndpoints,
                       listenerSets: set.listenerSets)
        report(set, warnings: result.warnings)
        let report = PlanReport(desired: result.endpoints, explanations: result.explanations, unexpanded: set.unexpanded)
        let text = output == .json ? report.json() : report.table()
        FileHandle.standardOutput.write(Data(text.utf8))
        // The errors are on stderr; scripts and CI jobs get them from the exit code.
        if set.hasErrors { throw ExitCode(1) }
    }

    /// `--cluster NAME`: each `--manifests` path replaced by the cluster folder NAME at or below
    /// it (`ClusterFolders`' rule); a path with none, or with two, is refused naming what is there.
    func clusterPaths(_ paths: [String]) throws -> [String] {
        guard let cluster else { return paths }
        return try paths.map { path in
            let clusters = ClusterFolders.all(under: path)
            let matching = clusters.filter { $0.name == cluster }
            guard matching.count == 1, let folder = matching.first?.folder else {
                let known = clusters.map { "\($0.name) (\($0.folder))" }.joined(separator: ", ")
                throw ValidationError(matching.isEmpty
                    ? "--cluster \(cluster): no clusters/\(cluster) or kubernetes/\(cluster) folder at or below \(path)"
                        + (known.isEmpty ? "" : "; clusters there: \(known)")
                    : "--cluster \(cluster): several folders at or below \(path): \(known); give the cluster's folder as --manifests")
            }
            return folder
        }
    }

    /// `--config`: every configured source, then a read-only plan per provider instance.
    private func runWithConfig(_ path: String) async throws {
        let (loaded, secrets) = try PlanWithConfig.load(path)
        let objects = await SourceObjects.readOnce(config: loaded, extraManifests: try clusterPaths(manifests), options: try manifestOptions()).objects
        let logger = Logger(label: "netagent.plan")
        for problem in objects.problems { logger.error("\(problem)") }
        for note in objects.notes { logger.notice("\(note)") }
        let result = RouteSource(options: try sourceOptions())
            .endpoints(gateways: objects.gateways, routes: objects.routes, namespaces: objects.namespaces,
                       dnsEndpoints: objects.dnsEndpoints, listenerSets: objects.listenerSets)
        for warning in result.warnings { logger.warning("\(warning.message)", metadata: ["resource": "\(warning.resource)"]) }
        let plans = await TargetPlan.all(config: loaded, secrets: secrets, objects: objects)
        let report = PlanReport(desired: result.endpoints, explanations: result.explanations, unexpanded: objects.unexpanded)
        let text: String
        if output == .json {
            // The plan's object with one more key: the changes per provider instance.
            text = report.json(more: [("providers", plans.map(TargetPlanReport.Entry.init))])
        } else {
            text = report.table() + TargetPlanReport.table(plans)
        }
        FileHandle.standardOutput.write(Data(text.utf8))
        // The report above names what failed; scripts get it from the exit code.
        let failed = plans.contains { if case .failure = $0.outcome { true } else { false } }
        if failed || !objects.problems.isEmpty { throw ExitCode(1) }
    }

    /// Input problems as log lines on stderr: the message carries `file:line`, the metadata
    /// the same for JSON readers.
    func report(_ set: ManifestSet, warnings: [SourceWarning]) {
        let logger = Logger(label: "netagent.plan")
        let skipped = set.skippedKinds.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        let summary = "read \(set.fileCount) files, \(set.documentCount) documents: \(set.gateways.count) Gateways, "
            + "\(set.routes.count) routes, \(set.namespaces.count) Namespaces, \(set.listenerSets.count) ListenerSets, \(set.dnsEndpoints.count) DNSEndpoints"
            + (skipped.isEmpty ? "" : "; skipped \(skipped)") + (set.unexpanded.isEmpty ? "" : "; \(set.unexpanded.count) not expanded")
        logger.log(level: explain ? .info : .debug, "\(summary)")
        for diagnostic in set.diagnostics {
            var metadata: Logger.Metadata = ["file": "\(diagnostic.location.file)"]
            if let line = diagnostic.location.line { metadata["line"] = "\(line)" }
            logger.log(level: diagnostic.isNote ? .notice : .error, "\(diagnostic)", metadata: metadata)
        }
        for warning in warnings {
            logger.warning("\(warning.message)", metadata: ["resource": "\(warning.resource)"])
        }
        // The table and JSON list them too; --explain says each on stderr, where it sits with the rest.
        if explain {
            for source in set.unexpanded {
                var metadata: Logger.Metadata = ["file": "\(source.location.file)"]
                if let line = source.location.line { metadata["line"] = "\(line)" }
                logger.notice("not expanded: \(PlanReport.line(source))", metadata: metadata)
            }
        }
    }

    func manifestOptions() throws -> ManifestOptions {
        var options = ManifestOptions()
        options.pathNamespaces = try manifestNamespaces.map { text in
            guard let parsed = PathNamespace(parsing: text) else {
                throw ValidationError("--manifest-namespace '\(text)' is not PATH=NS")
            }
            return parsed
        }
        options.gatewayAddresses = try gatewayAddress.map { text in
            guard let parsed = GatewayAddressOverride(parsing: text) else {
                throw ValidationError("--gateway-address '\(text)' is not NS/NAME=ADDR")
            }
            return parsed
        }
        if let repoRoot {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: repoRoot, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("--repo-root \(repoRoot) is not a folder")
            }
            options.repoRoot = repoRoot
        }
        if let defaultNamespace {
            guard !defaultNamespace.isEmpty else { throw ValidationError("--default-namespace must not be empty") }
            options.defaultNamespace = defaultNamespace
        }
        for file in varsFiles {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("--vars-file \(file): cannot be read") }
            do {
                options.variables.merge(try VariableSubstitution.parseFile(String(decoding: data, as: UTF8.self), file: file)) { $1 }
            } catch {
                throw ValidationError("--vars-file \(error)")
            }
        }
        for text in variables {
            guard let (name, value) = VariableSubstitution.parseAssignment(text) else {
                throw ValidationError("--var '\(text)' is not NAME=VALUE")
            }
            options.variables[name] = value
        }
        return options
    }

    func sourceOptions() throws -> RouteSourceOptions {
        var options = RouteSourceOptions()
        options.gatewayName = gatewayName
        options.gatewayNamespace = gatewayNamespace
        options.namespace = namespace
        options.gatewayLabelFilter = try selector(gatewayLabelFilter, flag: "--gateway-label-filter")
        options.labelFilter = try selector(labelFilter, flag: "--label-filter")
        options.annotationFilter = try selector(annotationFilter, flag: "--annotation-filter")
        options.ignoreHostnameAnnotation = ignoreHostnameAnnotation
        options.domainFilters = domainFilter
        options.excludeDomains = excludeDomains
        if let fqdnTemplate {
            do { options.fqdnTemplate = try FQDNTemplate(parsing: fqdnTemplate) } catch {
                throw ValidationError("--fqdn-template: \(error)")
            }
        }
        options.combineFQDNAndAnnotation = combineFQDNAnnotation
        options.gatewayListenerSets = gatewayListenerSets
        if !annotationPrefix.isEmpty { options.annotations = AnnotationReader(prefixes: annotationPrefix) }
        if !source.isEmpty {
            let names = RouteKind.allCases.map(\.sourceName) + ["crd"]
            if let unknown = source.first(where: { !names.contains($0) }) {
                throw ValidationError("--source '\(unknown)' is not one of \(names.joined(separator: ", "))")
            }
            options.routeKinds = Set(RouteKind.allCases.filter { source.contains($0.sourceName) })
            options.readDNSEndpoints = source.contains("crd")
        }
        options.gatewayProviderDefaults = !noGatewayProviderDefaults
        options.explain = explain
        return options
    }

    private func selector(_ text: String?, flag: String) throws -> LabelSelector {
        guard let text else { return LabelSelector() }
        do {
            return try LabelSelector(parsing: text)
        } catch {
            throw ValidationError("\(flag): \(error)")
        }
    }
}
