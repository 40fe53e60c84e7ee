import ArgumentParser
import Foundation
import Kube
import Logging
import NetAgent
import PlanOutput

/// `netagent plan`: the DNS records the Gateway API routes ask for, computed as external-dns
/// computes them, from manifests on disk. Bad input is reported on standard error and the
/// rest still counts; a bad flag is refused before anything is read.
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
            """)

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Option(name: .customLong("manifests"), help: "A manifest file or folder (repeatable).")
    var manifests: [String] = []

    @Option(help: "A configuration file: its sources are read and each provider's changes are shown (read-only).")
    var config: String?

    @Option(name: .customLong("repo-root"),
            help: ArgumentHelp("The repository root Flux Kustomizations' spec.path is relative to (default: the folder above --manifests holding .git).", valueName: "DIR"))
    var repoRoot: String?

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

    @Option(help: "table or json.")
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
        _ = try manifestOptions()
        _ = try sourceOptions()
    }

    func run() async throws {
        global.bootstrapLogging()
        if let config {
            try await runWithConfig(config)
            return
        }
        if parseOnly {
            let count = ManifestLoader.parseOnly(paths: manifests)
            print("parsed \(count.documents) documents from \(count.files) files (\(count.failures) failed)")
            return
        }
        let set = ManifestLoader.load(paths: manifests, options: try manifestOptions())
        let result = RouteSource(options: try sourceOptions())
            .endpoints(gateways: set.gateways, routes: set.routes, namespaces: set.namespaces, dnsEndpoints: set.dnsEndpoints,
                       listenerSets: set.listenerSets)
        report(set, warnings: result.warnings)
        let report = PlanReport(desired: result.endpoints, explanations: result.explanations)
        let text = output == .json ? report.json() : report.table()
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// `--config`: every configured source, then a read-only plan per provider instance.
    private func runWithConfig(_ path: String) async throws {
        let (loaded, secrets) = try PlanWithConfig.load(path)
        let objects = await SourceObjects.readOnce(config: loaded, extraManifests: manifests, options: try manifestOptions()).objects
        let logger = Logger(label: "netagent.plan")
        for problem in objects.problems { logger.error("\(problem)") }
        for note in objects.notes { logger.notice("\(note)") }
        let result = RouteSource(options: try sourceOptions())
            .endpoints(gateways: objects.gateways, routes: objects.routes, namespaces: objects.namespaces,
                       dnsEndpoints: objects.dnsEndpoints, listenerSets: objects.listenerSets)
        for warning in result.warnings { logger.warning("\(warning.message)", metadata: ["resource": "\(warning.resource)"]) }
        let plans = await TargetPlan.all(config: loaded, secrets: secrets, objects: objects)
        let report = PlanReport(desired: result.endpoints, explanations: result.explanations)
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
    private func report(_ set: ManifestSet, warnings: [SourceWarning]) {
        let logger = Logger(label: "netagent.plan")
        let skipped = set.skippedKinds.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        let summary = "read \(set.fileCount) files, \(set.documentCount) documents: \(set.gateways.count) Gateways, "
            + "\(set.routes.count) routes, \(set.namespaces.count) Namespaces, \(set.listenerSets.count) ListenerSets, \(set.dnsEndpoints.count) DNSEndpoints" + (skipped.isEmpty ? "" : "; skipped \(skipped)")
        logger.log(level: explain ? .info : .debug, "\(summary)")
        for diagnostic in set.diagnostics {
            var metadata: Logger.Metadata = ["file": "\(diagnostic.location.file)"]
            if let line = diagnostic.location.line { metadata["line"] = "\(line)" }
            logger.log(level: diagnostic.isNote ? .notice : .error, "\(diagnostic)", metadata: metadata)
        }
        for warning in warnings {
            logger.warning("\(warning.message)", metadata: ["resource": "\(warning.resource)"])
        }
    }

    private func manifestOptions() throws -> ManifestOptions {
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

    private func sourceOptions() throws -> RouteSourceOptions {
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
