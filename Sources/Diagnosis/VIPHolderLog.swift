public import Foundation
public import Probes

/// The VIP's recent history for the status page, from the vip probe's results: who held it
/// round by round, run-length coded into segments, and the failovers, outages and split
/// brains (`VIPTimeline`, with their lengths). Bounded: at most `capacity` segments and
/// events are kept, the oldest dropped first.
public struct VIPHolderLog: Sendable, Hashable {
    /// Consecutive rounds that saw the same thing.
    public struct Segment: Sendable, Hashable {
        public enum State: String, Sendable, Hashable {
            /// VIP:port answered (TCP and TLS) and one node answered ARP.
            case held
            /// VIP:port answered but nobody (or ARP could not be asked) named the holder.
            case unknownHolder = "unknown-holder"
            /// More than one MAC answered ARP.
            case splitBrain = "split-brain"
            /// VIP:port did not answer (TCP or TLS failed).
            case down
        }

        public var state: State
        /// The holder of a `held` segment; every MAC's node for a split brain.
        public var holders: [String]
        /// The first round of the segment.
        public var start: Date
        /// The last round of the segment.
        public var end: Date
        public var rounds: Int

        /// The segment in words: `k8s-1`, `down`, `split brain: k8s-1, k8s-3`, `holder unknown`.
        public var label: String {
            switch state {
            case .held: holders.first ?? "?"
            case .unknownHolder: "holder unknown"
            case .splitBrain: "split brain: " + holders.joined(separator: ", ")
            case .down: "down"
            }
        }
    }

    public private(set) var segments: [Segment] = []
    /// Failovers (with the outage between the holders), outages and split brains.
    public private(set) var timeline: VIPTimeline
    public let capacity: Int

    public init(capacity: Int = 200) {
        self.capacity = max(1, capacity)
        timeline = VIPTimeline(capacity: self.capacity)
    }

    /// Takes one vip probe result; results of other kinds are ignored.
    public mutating func record(_ result: ProbeResult) {
        guard result.kind == .vip, let facts = result.observed.vip else { return }
        // The probe's own notion of "up": TCP connected and the TLS handshake done.
        let up = facts.up
        let holders = facts.holders
        timeline.observe(up: up, holders: holders, at: result.at)
        let state: Segment.State = if holders.count > 1 { .splitBrain } else if !up { .down }
            else if holders.count == 1 { .held } else { .unknownHolder }
        let kept = state == .down ? [] : holders
        if var last = segments.last, last.state == state, last.holders == kept {
            last.end = result.at
            last.rounds += 1
            segments[segments.count - 1] = last
        } else {
            segments.append(Segment(state: state, holders: kept, start: result.at, end: result.at, rounds: 1))
            if segments.count > capacity { segments.removeFirst(segments.count - capacity) }
        }
    }
}
