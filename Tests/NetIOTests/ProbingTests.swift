import Foundation
import Glibc
import NetIO
import Testing
import TestSupport

/// The socket probes on loopback (the only place outside a test namespace they may aim at).
struct ProbingTests {
    let loopback = IPAddress("127.0.0.1")!

    @Test func tcpConnectTellsAListenerFromAClosedPort() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let open = await TCPProbe.connect(to: loopback, port: port, timeout: .seconds(1))
        #expect(open.outcome == .connected)
        let closedPort = try freeLoopbackPort()
        let closed = await TCPProbe.connect(to: loopback, port: closedPort, timeout: .seconds(1))
        #expect(closed.outcome == .refused)
        #expect(closed.errorNumber == ECONNREFUSED)
    }

    /// Root gets a raw socket when the sysctl range excludes it; anyone else gets the
    /// unprivileged socket or an error that names both missing permissions.
    @Test func pingEitherAnswersOrSaysWhatIsMissing() async throws {
        do {
            let result = try await ICMPProbe.ping(loopback, count: 2, spacing: .milliseconds(20), timeout: .seconds(1))
            #expect(result.received == 2)
            #expect(result.loss == 0)
            #expect(result.roundTrips.count == 2)
            #expect(result.schedule?.clamping == nil)
            if let fastest = result.minRoundTrip, let slowest = result.maxRoundTrip { #expect(fastest <= slowest) }
            if getuid() != 0 { #expect(result.socketKind == .unprivileged) }
        } catch {
            #expect(getuid() != 0, "root always has a raw socket")
            #expect(error.message.contains("ping_group_range"))
            #expect(error.message.contains("CAP_NET_RAW"))
        }
    }

    @Test(.enabled(if: getuid() == 0 || Repository.isCI, "needs an ICMP socket"))
    func pathMTUOverLoopbackReachesTheCeiling() async throws {
        let report = try await PathMTUProbe.discover(loopback, ceiling: 1500, deadline: .now + .seconds(2))
        #expect(report.largestAnswered == 1500)
        #expect(report.smallestSilent == nil)
        #expect(!report.isBlackHole)
    }

    @Test func commandRunnerInterruptsAtTheDeadlineAndKeepsTheOutput() async throws {
        let output = try await CommandRunner.run("/bin/sh", ["-c", "echo before; sleep 5; echo after"], timeout: .milliseconds(300))
        #expect(output.timedOut)
        #expect(output.output.contains("before"))
        #expect(!output.output.contains("after"))
        let done = try await CommandRunner.run("/bin/sh", ["-c", "echo ok; exit 3"], timeout: .seconds(5))
        #expect(done.status == 3)
        #expect(done.output == "ok\n")
        #expect(!done.timedOut)
    }

    @Test func arpingRepliesAreParsedIntoDistinctMACs() {
        let text = """
            ARPING 198.18.0.10 from 198.18.0.2 eth0
            Unicast reply from 198.18.0.10 [56:E6:D9:42:88:BA]  0.565ms
            Unicast reply from 198.18.0.10 [A6:2C:50:93:1B:DD]  0.593ms
            Unicast reply from 198.18.0.10 [56:E6:D9:42:88:BA]  0.601ms
            Sent 2 probes (1 broadcast(s))
            Received 3 response(s)
            """
        #expect(ARPProbe.parseMACs(text) == ["56:e6:d9:42:88:ba", "a6:2c:50:93:1b:dd"])
        #expect(ARPProbe.parseMACs("Sent 1 probes (1 broadcast(s))\nReceived 0 response(s)\n").isEmpty)
    }
}

/// Free ports for servers the tests start.
struct LoopbackPortTests {
    /// Picks made side by side in one process never repeat (random picks did: two servers of a
    /// parallel suite were given one port) and stay below the kernel's ephemeral range.
    @Test func picksInOneProcessNeverRepeat() async throws {
        let ports = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<8 {
                group.addTask { try (0..<250).map { _ in try LoopbackPort.free(udp: Bool.random()) } }
            }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        #expect(Set(ports).count == ports.count)
        let ephemeralStart = LoopbackPort.ephemeralRangeStart()
        try #require(ephemeralStart > 12_000, "the ephemeral range starts at \(ephemeralStart): no room below it")
        #expect(ports.allSatisfy { $0 >= 10_000 && $0 < ephemeralStart })
    }
}
