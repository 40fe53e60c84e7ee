import ArgumentParser
import Dispatch
import Foundation
import Glibc
import NetIO
import Synchronization

/// `netagent lab`: netagent at work on one machine, every peer simulated. `lab` (= `lab start`)
/// runs until Ctrl-C / SIGTERM or `--for`; `fault`, `status` and `wait` talk to a running lab.
struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Run netagent against simulated peers on this machine, and inject faults into it.",
        subcommands: [LabStart.self, LabFault.self, LabRoute.self, LabStatus.self, LabWait.self],
        defaultSubcommand: LabStart.self)
}

/// Which lab a command means: `--dir`, else the default folder of `--name`.
struct LabSelection: ParsableArguments {
    @Option(help: "The lab's name: its namespaces are NAME-*, its default folder $TMPDIR/netagent-lab-NAME ([a-z0-9]{1,8}).")
    var name = "lab"

    @Option(help: "The lab's folder (configuration, mail, logs, lab.json); default $TMPDIR/netagent-lab-NAME, made afresh.")
    var dir: String?

    func validate() throws {
        guard name.range(of: "^[a-z0-9]{1,8}$", options: .regularExpression) != nil else {
            throw ValidationError("--name '\(name)' must match [a-z0-9]{1,8}")
        }
    }

    var folder: String {
        guard let dir else { return LabInfo.defaultDir(name: name) }
        return URL(fileURLWithPath: dir).standardizedFileURL.path
    }
}

struct LabStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Start the lab: Kubernetes API, Cloudflare and Pi-hole (with dnsmasq) simulators, an SMTP sink, the nodes, and the agent.",
        discussion: """
            As root the nodes live in network namespaces (198.18.N.0/24) reached through a veth from this
            namespace; otherwise on loopback addresses (127.0.N.x), where the mtu and vip-move faults are
            unavailable. Stops cleanly on Ctrl-C or SIGTERM, or after --for.
            """)

    @OptionGroup var lab: LabSelection

    @Option(help: "A folder of Gateway/HTTPRoute/GRPCRoute manifests to serve (default: built-in routes modelled on the seed cluster).")
    var fixture: String?

    @Option(help: "N of the lab's network 198.18.N.0/24 (127.0.N.0/24 on loopback); labs that run at once need different ones.")
    var octet = 60

    @Flag(help: "Nodes on loopback addresses even when root (no namespaces).")
    var loopback = false

    @Flag(help: "Write the agent's configuration but start no agent: one started elsewhere takes netagent.yaml and its listen address (scripts/image's smoke test).")
    var noAgent = false

    @Option(name: .customLong("for"), help: "Stop by itself after this long (e.g. 90s), for scripts.")
    var duration: String?

    @Option(help: "The agent's --log-level.")
    var agentLogLevel = "info"

    func validate() throws {
        guard (0...255).contains(octet) else { throw ValidationError("--octet \(octet): give 0…255") }
        if let duration, CLIDuration.parse(duration) == nil {
            throw ValidationError("--for '\(duration)' is not a duration like 90s or 5m")
        }
    }

    func run() async throws {
        let signals = SignalWatch([SIGINT, SIGTERM])
        let session = try LabSession(.init(name: lab.name, dir: lab.folder, fixture: fixture, octet: octet, loopback: loopback,
                                           agentArguments: ["--log-level", agentLogLevel], startsAgent: !noAgent))
        let info: LabInfo
        do {
            info = try await session.start()
        } catch {
            throw LabError("the lab did not start: \(error)")
        }
        say(Self.banner(info, session: session))
        let limit = duration.flatMap(CLIDuration.parse)
        let agentLog = info.agentLog
        let failure = await withTaskGroup(of: String?.self) { group -> String? in
            group.addTask { await signals.next().map { "signal \($0)" } ?? "signals ended" }
            if let limit {
                group.addTask {
                    try? await Task.sleep(for: limit)
                    return "--for \(duration ?? "")"
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    if let status = session.agentExitStatus() { return "the agent exited (\(status)); see \(agentLog)" }
                    try? await Task.sleep(for: .seconds(1))
                }
                return ""
            }
            group.addTask {
                var last: LabSession.Progress?
                while !Task.isCancelled {
                    let progress = await session.progress()
                    if progress != last { say(progress.line) }
                    last = progress
                    try? await Task.sleep(for: .seconds(1))
                }
                return "cancelled"
            }
            let reason = (await group.next() ?? "") ?? ""
            group.cancelAll()
            say("stopping the lab (\(reason))…")
            // Exit 0 is the agent's answer to a signal (Ctrl-C reaches the whole process group): not a failure.
            return reason.hasPrefix("the agent exited") && !reason.hasPrefix("the agent exited (0)") ? reason : nil
        }
        await session.stop()
        say("lab stopped: agent, simulators, dnsmasq, SMTP sink and nodes are gone; mail and logs stay in \(info.dir)")
        if let failure { throw LabError(failure) }
    }

    static func banner(_ info: LabInfo, session: LabSession) -> String {
        let nodes = session.nodes.topology.nodes.map { node in
            "\(node.name) \(node.address)\(node.controlPlane ? " (control plane)" : "")\(node.offline.map { " offline: \($0)" } ?? "")"
        }
        let unavailable = info.unavailableFaults.sorted { $0.key < $1.key }.map { "    \($0.key): unavailable — \($0.value)" }
        return ([
            "netagent lab \(info.name) is up (\(session.fixture.origin))",
            "  folder        \(info.dir)",
            "  Kubernetes    \(info.kubernetes)   (kubeconfig \(info.dir)/kubeconfig)",
            "  Cloudflare    \(info.cloudflare)   (token lab-token; zones \(session.zones.map(\.name).joined(separator: ", ")))",
            "  Pi-hole       \(info.pihole)   (password \(LabSession.piholePassword)); its dnsmasq on \(info.piholeDNS)",
            "  cloudflared   \(info.cloudflared)   (tunnel \(LabSession.tunnelID), 2 connections)",
            "  SMTP sink     \(info.smtp)   mail as files in \(info.mail)",
            "  nodes         \(session.nodes.summary)",
            "                \(nodes.joined(separator: "; "))",
            "  agent         netagent run --config \(info.config)   (log \(info.agentLog))",
            "  status page   \(info.agent)/status   (/metrics, /readyz)",
            "  check         netagent check --config \(info.config)",
            "  faults        netagent lab fault \(LabSession.faultUsage)\(info.dir == LabInfo.defaultDir(name: info.name) ? "" : " --dir \(info.dir)")",
        ] + unavailable + session.warnings.map { "  note          \($0)" }
          + ["  stop          Ctrl-C (or SIGTERM to pid \(info.pid))"]).joined(separator: "\n")
    }
}

struct LabFault: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fault",
        abstract: "Inject a fault into a running lab (or clear them).",
        discussion: """
            pihole-down / pihole-up      Pi-hole's API and its dnsmasq stop / start again
            cloudflare-down / -up        Cloudflare's API stops / starts again
            tunnel-down / tunnel-up      cloudflared has no ready connection (/ready 503), the API says the tunnel is down / back
            node-down NODE / node-up     the node's apid, kubelet (and API server) stop; ping still answers
            mtu NODE SIZE                the node's switch port carries at most SIZE bytes (a black hole); root only
            vip-move [NODE]              the VIP moves to NODE or the next control plane, with a gratuitous ARP; root only
            vip-down                     nobody holds the VIP (vip-move or clear gives it back); root only
            clear                        every fault undone
            """)

    @OptionGroup var lab: LabSelection

    @Argument(help: "The fault and its arguments.")
    var words: [String]

    func run() async throws {
        try await LabControl.post(dir: lab.folder, path: "/fault", words: words, what: "lab fault")
    }
}

struct LabRoute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Add or delete an HTTPRoute in a running lab's Kubernetes API (the agent follows it).",
        discussion: """
            add NAME HOSTNAME [GATEWAY]   an HTTPRoute default/NAME for HOSTNAME on GATEWAY (default: the *internal* one)
            delete NAME                   deletes HTTPRoute default/NAME
            """)

    @OptionGroup var lab: LabSelection

    @Argument(help: "add NAME HOSTNAME [GATEWAY] | delete NAME")
    var words: [String]

    func run() async throws {
        try await LabControl.post(dir: lab.folder, path: "/route", words: words, what: "lab route")
    }
}

/// The client side of the lab's control endpoint.
enum LabControl {
    static func post(dir: String, path: String, words: [String], what: String) async throws {
        let info = try LabInfo.read(dir: dir)
        let body = Data(words.joined(separator: " ").utf8)
        let response = try await HTTPClient().send(HTTPRequest(method: "POST", url: info.control + path, body: body, timeout: .seconds(60)))
        let text = String(decoding: response.body, as: UTF8.self)
        guard response.status == 200 else {
            FileHandle.standardError.write(Data("\(what): \(text)".utf8))
            throw ExitCode(2)
        }
        print(text, terminator: "")
    }
}

struct LabStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print a running lab's progress: records in Pi-hole and Cloudflare, mails, active faults.")

    @OptionGroup var lab: LabSelection

    @Flag(help: "Print the lab's addresses and progress as JSON.")
    var json = false

    func run() async throws {
        let info = try LabInfo.read(dir: lab.folder)
        let progress = try await Self.progress(info)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(["lab": AnyEncodable(info), "progress": AnyEncodable(progress)])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(progress.line)
        }
    }

    static func progress(_ info: LabInfo) async throws -> LabSession.Progress {
        let response = try await HTTPClient().send(HTTPRequest(url: info.control + "/progress", timeout: .seconds(10)))
        return try JSONDecoder().decode(LabSession.Progress.self, from: response.body)
    }
}

struct LabWait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Wait until a running lab's records converge, or until it has at least N mails; exit 1 on --timeout.")

    enum Condition: String, ExpressibleByArgument, CaseIterable { case converged, mail }

    @OptionGroup var lab: LabSelection

    @Argument(help: "converged | mail")
    var condition: Condition

    @Option(help: "With `mail`: how many mails.")
    var count = 1

    @Option(help: "Give up after this long.")
    var timeout = "120s"

    func run() async throws {
        guard let limit = CLIDuration.parse(timeout) else { throw ValidationError("--timeout '\(timeout)' is not a duration") }
        let deadline = ContinuousClock.now + limit
        while true {
            let info = try LabInfo.read(dir: lab.folder)
            let progress = try await LabStatus.progress(info)
            let done = condition == .converged ? progress.converged : progress.mails >= count
            if done {
                print(progress.line)
                return
            }
            if ContinuousClock.now >= deadline {
                print("timed out: \(progress.line)")
                throw ExitCode(1)
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// Type erasure for encoding two different values under one JSON object.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}

/// SIGINT and SIGTERM as an async sequence: the default action is switched off while watched.
final class SignalWatch: Sendable {
    private let stream: AsyncStream<Int32>
    /// Kept so the sources stay alive; never read.
    private let sources: Mutex<[any DispatchSourceSignal]>

    init(_ signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
        sources = Mutex(signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        })
    }

    func next() async -> Int32? {
        var iterator = stream.makeAsyncIterator()
        return await iterator.next()
    }
}

/// A line on stdout at once (print's buffer would hold it back when stdout is a pipe).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
