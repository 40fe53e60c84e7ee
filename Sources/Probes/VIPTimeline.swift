public import Foundation

/// Something that happened to the VIP between rounds.
public struct VIPEvent: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, Hashable {
        /// The holder changed from `oldHolder` to `newHolder`.
        case failover
        /// The VIP was unusable and came back on the same holder.
        case outage
        /// More than one MAC answered ARP for the VIP.
        case splitBrain = "split-brain"
    }

    public var kind: Kind
    public var oldHolder: String?
    public var newHolder: String?
    /// All holders seen at once, for a split brain.
    public var holders: [String]
    /// The first failing round (or, when no round failed, the last round on the old holder).
    public var start: Date
    /// The first healthy round afterwards; nil while it lasts.
    public var end: Date?
    /// end − start in seconds.
    public var durationSeconds: Double?
    /// Whether a failing round was actually seen (false: the move fell between two rounds).
    public var outageObserved: Bool
}

/// The VIP's history over rounds: who held it, when it was unusable, the failovers and split
/// brains. Pure: the caller passes each round's observation and its time.
public struct VIPTimeline: Sendable, Hashable {
    public private(set) var events: [VIPEvent] = []
    /// The holder of the last healthy round.
    public private(set) var holder: String?
    private var lastHealthy: Date?
    private var outageStart: Date?
    private var inSplitBrain = false
    public let capacity: Int

    public init(capacity: Int = 100) { self.capacity = capacity }

    /// Records one round: whether VIP:port worked (TCP and TLS) and which nodes answered
    /// ARP for it. Returns the events this round completed or started.
    @discardableResult
    public mutating func observe(up: Bool, holders: [String], at time: Date) -> [VIPEvent] {
        var new: [VIPEvent] = []
        if holders.count > 1 {
            if !inSplitBrain {
                new.append(VIPEvent(kind: .splitBrain, oldHolder: holder, newHolder: nil, holders: holders, start: time,
                                    end: nil, durationSeconds: nil, outageObserved: !up))
            }
            inSplitBrain = true
        } else if inSplitBrain, let index = events.lastIndex(where: { $0.kind == .splitBrain && $0.end == nil }) {
            inSplitBrain = false
            events[index].end = time
            events[index].durationSeconds = time.timeIntervalSince(events[index].start)
        } else {
            inSplitBrain = false
        }
        let current = holders.count == 1 ? holders[0] : nil
        if up, let current {
            if let previous = holder, previous != current {
                let start = outageStart ?? lastHealthy ?? time
                new.append(VIPEvent(kind: .failover, oldHolder: previous, newHolder: current, holders: [current],
                                    start: start, end: time, durationSeconds: time.timeIntervalSince(start),
                                    outageObserved: outageStart != nil))
            } else if let start = outageStart {
                new.append(VIPEvent(kind: .outage, oldHolder: current, newHolder: current, holders: [current], start: start,
                                    end: time, durationSeconds: time.timeIntervalSince(start), outageObserved: true))
            }
            holder = current
            lastHealthy = time
            outageStart = nil
        } else if outageStart == nil {
            outageStart = time
        }
        events += new
        if events.count > capacity { events.removeFirst(events.count - capacity) }
        return new
    }

    /// When the current outage began, nil while the VIP is healthy.
    public var currentOutageStart: Date? { outageStart }
}
