import Foundation
import Glibc
@testable import NetIO
import Testing
import TestSupport

/// Echo statistics: the schedule that fits a timeout, the percentiles, and late replies kept as
/// late on a link that scripts/testbed slows down (`impair`, netem's delay).
struct EchoStatisticsTests {
    @Test func aScheduleThatFitsHalfTheTimeoutIsKept() {
        let schedule = EchoSchedule(count: 10, spacing: .milliseconds(100), timeout: .seconds(2))
        #expect(schedule.count == 10)
        #expect(schedule.spacing == .milliseconds(100))
        #expect(schedule.clamping == nil)
    }

    @Test func tooManyEchoesForTheTimeoutAreSpacedCloserNotDropped() {
        // 20 × 100 ms = 2 s does not fit in half of 2 s: 20 echoes 50 ms apart.
        let schedule = EchoSchedule(count: 20, spacing: .milliseconds(100), timeout: .seconds(2))
        #expect(schedule.count == 20)
        #expect(schedule.spacing == .milliseconds(50))
        #expect(schedule.clamping?.contains("sent 20") == true)
    }

    @Test func belowTheMinimumSpacingTheCountShrinks() {
        // Half of 10 ms holds five 1 ms slots.
        let schedule = EchoSchedule(count: 100, spacing: .milliseconds(5), timeout: .milliseconds(10))
        #expect(schedule.spacing == EchoSchedule.minimumSpacing)
        #expect(schedule.count == 5)
        #expect(schedule.requestedCount == 100)
        #expect(EchoSchedule(count: 0, spacing: .zero, timeout: .seconds(1)).count == 1)
        #expect(EchoSchedule(count: 100_000, spacing: .zero, timeout: .seconds(1)).count == EchoSchedule.maximumCount)
    }

    @Test func percentilesByNearestRank() {
        let times = (1...20).map { Duration.milliseconds($0 * 10) }
        let result = PingResult(sent: 25, received: 20, roundTrips: times.shuffled(), socketKind: .raw, late: 2)
        #expect(result.minRoundTrip == .milliseconds(10))
        #expect(result.medianRoundTrip == .milliseconds(110))
        #expect(result.p90RoundTrip == .milliseconds(190))
        #expect(result.maxRoundTrip == .milliseconds(200))
        #expect(result.lossPercent == 20)
        let three = PingResult(sent: 3, received: 3, roundTrips: [.milliseconds(3), .milliseconds(1), .milliseconds(2)], socketKind: .raw)
        #expect(three.medianRoundTrip == .milliseconds(2))
        #expect(three.p90RoundTrip == .milliseconds(3))
        #expect(PingResult(sent: 3, received: 0, roundTrips: [], socketKind: .raw).p90RoundTrip == nil)
    }

    static let w1 = IPAddress("198.18.0.21")!

    /// 300 ms of added delay, echoes 50 ms apart: every reply comes after its spacing, and
    /// every one is received and late, none lost.
    @Test(.enabled(if: getuid() == 0 || Repository.isCI, "needs root for network namespaces (runs under CI=true)"))
    func slowRepliesAreLateNotLost() async throws {
        try await ImpairedBed.with(["delay", "300"]) { bed in
            let result = try bed.pingFromObserver(Self.w1, count: 6, spacing: .milliseconds(50), timeout: .seconds(2))
            #expect(result.sent == 6)
            #expect(result.received == 6, "\(result)")
            #expect(result.late == 6, "\(result)")
            #expect(result.loss == 0)
            #expect(result.roundTrips.count == 6)
            #expect(try #require(result.minRoundTrip) >= .milliseconds(300))
            #expect(try #require(result.p90RoundTrip) < .seconds(1))
        }
    }

    /// Echoes that get no reply by the timeout are lost; the ping ends at its timeout.
    @Test(.enabled(if: getuid() == 0 || Repository.isCI, "needs root for network namespaces (runs under CI=true)"))
    func everyEchoLostOnADeadLink() async throws {
        try await ImpairedBed.with(["loss", "100"]) { bed in
            let started = ContinuousClock.now
            let result = try bed.pingFromObserver(Self.w1, count: 4, spacing: .milliseconds(20), timeout: .milliseconds(600))
            #expect(ContinuousClock.now - started >= .milliseconds(600))
            #expect(result.sent == 4)
            #expect(result.received == 0)
            #expect(result.late == 0)
            #expect(result.lossPercent == 100)
        }
    }
}

/// scripts/testbed with its own prefix and w1's link impaired (`impair w1 ARGS`), removed by
/// `with` also on failure; pings run from inside its observer namespace.
struct ImpairedBed {
    let prefix: String

    static func with(_ impairment: [String], _ body: (ImpairedBed) async throws -> Void) async throws {
        let bed = ImpairedBed(prefix: "e" + String(UInt32.random(in: 0..<UInt32.max), radix: 16).prefix(7))
        defer { _ = try? bed.script(["down"]) }
        for arguments in [["up"], ["impair", "w1"] + impairment] {
            let (status, output) = try bed.script(arguments)
            guard status == 0 else { throw TestSupportError("scripts/testbed \(arguments.joined(separator: " ")): \(output)") }
        }
        try await body(bed)
    }

    func script(_ arguments: [String]) throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["TESTBED_PREFIX"] = prefix
        return try runCommand("/bin/bash", [Repository.root.appendingPathComponent("scripts/testbed").path] + arguments, environment: environment)
    }

    /// Pings from inside the observer: a thread of its own joins the namespace (setns) and
    /// ends with the ping, so no shared thread is left in it.
    func pingFromObserver(_ address: IPAddress, count: Int, spacing: Duration, timeout: Duration) throws -> PingResult {
        let fd = open("/run/netns/\(prefix)obs", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TestSupportError("open /run/netns/\(prefix)obs: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            defer { done.signal() }
            guard Self.joinNetworkNamespace(fd) == 0 else {
                box.value = .failure(TestSupportError("setns: \(String(cString: strerror(errno)))"))
                return
            }
            do {
                box.value = .success(try ICMPProbe.pingBlocking(address, count: count, spacing: spacing, timeout: timeout))
            } catch {
                box.value = .failure(TestSupportError("\(error)"))
            }
        }
        thread.start()
        done.wait()
        return try box.value!.get()
    }

    /// setns(2) with CLONE_NEWNET (0x40000000, linux/sched.h), looked up at run time: Glibc's
    /// Swift module does not import it.
    private static func joinNetworkNamespace(_ fd: Int32) -> Int32 {
        typealias SetNS = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { return -1 }
        return unsafeBitCast(symbol, to: SetNS.self)(fd, 0x4000_0000)
    }

    private final class ResultBox: @unchecked Sendable {
        var value: Result<PingResult, TestSupportError>?
    }
}
