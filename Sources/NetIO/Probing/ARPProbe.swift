import Foundation

/// Who answered an ARP request for an address: every distinct MAC, in the order first seen.
public struct ARPReplies: Sendable, Hashable {
    public var address: IPAddress
    public var interface: String
    /// Lower-case `aa:bb:cc:dd:ee:ff`; more than one for the same address means two hosts
    /// claim it (a split brain for a VIP).
    public var macs: [String]
}

/// An ARP request could not be made (no `arping`, no route to the address).
public struct ARPError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Active ARP: runs Debian's `arping` (iputils-arping, which carries cap_net_raw) and reads
/// every MAC that replies. Unlike the neighbour cache this cannot be stale.
public enum ARPProbe {
    /// Asks who has `address` out of `interface` (default: the device of the route to it, from
    /// `ip route get`) until `count` replies came or `timeout` ran out, and returns the MACs
    /// that replied. With one holder and `count` 2 it always takes the whole `timeout`: that
    /// is the price of seeing a second holder.
    public static func replies(
        for address: IPAddress, interface: String? = nil, count: Int = 2, timeout: Duration
    ) async throws(ARPError) -> ARPReplies {
        guard address.isIPv4 else { throw ARPError(message: "ARP is IPv4 only (\(address))") }
        guard let arping = CommandRunner.find("arping") else {
            throw ARPError(message: "arping is not installed (Debian package iputils-arping)")
        }
        let device: String
        if let interface { device = interface } else { device = try await routeDevice(to: address, timeout: timeout) }
        // arping's own deadline is whole seconds; ours is the caller's, enforced by interrupting
        // it (it then prints what it has). It ends early once `count` replies have come.
        let seconds = max(1, Int(timeout.components.seconds) + 1)
        let output: CommandOutput
        do {
            output = try await CommandRunner.run(
                arping, ["-c", "\(max(1, count))", "-w", "\(seconds)", "-I", device, address.description], timeout: timeout)
        } catch {
            throw ARPError(message: "arping: \(error.message)")
        }
        return ARPReplies(address: address, interface: device, macs: parseMACs(output.output))
    }

    /// The MACs in arping's "Unicast reply from A [MAC]" lines, distinct, in order.
    public static func parseMACs(_ text: String) -> [String] {
        var macs: [String] = []
        for line in text.split(separator: "\n") where line.contains("reply from") {
            guard let open = line.firstIndex(of: "["), let close = line[open...].firstIndex(of: "]") else { continue }
            let mac = line[line.index(after: open)..<close].lowercased()
            if mac.split(separator: ":").count == 6, !macs.contains(mac) { macs.append(mac) }
        }
        return macs
    }

    /// The interface of the route to `address` (`ip route get A` → `dev X`).
    static func routeDevice(to address: IPAddress, timeout: Duration) async throws(ARPError) -> String {
        guard let ip = CommandRunner.find("ip") else { throw ARPError(message: "ip (iproute2) is not installed") }
        let output: CommandOutput
        do {
            output = try await CommandRunner.run(ip, ["-o", "route", "get", address.description], timeout: timeout)
        } catch {
            throw ARPError(message: "ip route get: \(error.message)")
        }
        let words = output.output.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard output.status == 0, let index = words.firstIndex(of: "dev"), index + 1 < words.count else {
            throw ARPError(message: "no route to \(address): \(output.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return String(words[index + 1])
    }
}
