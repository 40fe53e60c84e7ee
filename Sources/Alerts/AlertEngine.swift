public import Foundation

/// One mail the engine decided to send about one group (one rule): the alerts firing in it
/// and those resolved since the last mail, with the threading a reader's client needs.
public struct AlertNotification: Hashable, Codable, Sendable {
    public enum Status: String, Hashable, Codable, Sendable { case firing, resolved }

    public var status: Status
    public var group: AlertRule
    /// Every alert of the group firing now, by target.
    public var firing: [Alert]
    /// Alerts of the group that resolved since the last mail.
    public var resolved: [Alert]
    /// This mail's Message-ID, without angle brackets; stable across retries.
    public var messageID: String
    /// The first mail of this episode of the group, which later mails reply to; nil for that first mail.
    public var threadRoot: String?
    /// The mail this one answers (the previous mail of the episode).
    public var inReplyTo: String?
    public var at: Date
}

/// The alert state machine. Feed it observations (`observe`) and call `step(now:)`: it moves
/// alerts pending → firing after `for`, firing → resolved on recovery, and returns the mails
/// to send. Pure and `Codable`: time comes only from the `now` it is given, and its whole
/// state is saved with the outbox in one transaction, so a restart neither forgets what was
/// mailed nor mails it twice.
public struct AlertEngine: Sendable {
    public var policy: AlertPolicy
    /// Everything the engine remembers; persisted as one snapshot.
    public private(set) var state: State

    /// The engine's memory: alerts by key, each group's mailing state, a message counter.
    public struct State: Hashable, Codable, Sendable {
        public var alerts: [AlertKey: Alert] = [:]
        public var groups: [AlertRule: GroupState] = [:]
        public var sequence: Int = 0
        public init() {}

        /// The alerts a person sees, pending or firing, by key; conditions (`AlertRule.conditions`) left out.
        public var open: [Alert] {
            alerts.values.filter { $0.state != .resolved && !AlertRule.conditions.contains($0.key.rule) }.sorted { $0.key < $1.key }
        }
    }

    /// What a group has been told: the firing alerts its last mail listed, when it was sent,
    /// and the thread it belongs to.
    public struct GroupState: Hashable, Codable, Sendable {
        public var notified: Set<AlertKey> = []
        public var lastSent: Date?
        /// When the group's first alert of a new episode fired (group_wait runs from here).
        public var waitingSince: Date?
        public var threadRoot: String?
        public var lastMessageID: String?
    }

    public init(policy: AlertPolicy, state: State = State()) {
        self.policy = policy
        self.state = state
    }

    /// Replaces what `scope` reports with `signals` at `now`. New conditions become pending;
    /// conditions of this scope no longer reported recover (a pending one is forgotten, a
    /// firing one resolves). Signals about known-offline nodes are dropped.
    public mutating func observe(scope: String, signals: [AlertSignal], at now: Date) {
        var seen: Set<AlertKey> = []
        for signal in signals where !isOffline(signal) {
            seen.insert(signal.key)
            if var alert = state.alerts[signal.key], alert.state != .resolved {
                alert.signal = signal
                alert.scope = scope
                alert.lastSeen = now
                state.alerts[signal.key] = alert
            } else {
                state.alerts[signal.key] = Alert(signal: signal, scope: scope, state: .pending, since: now,
                                                 lastSeen: now)
            }
        }
        for (key, alert) in state.alerts where alert.scope == scope && !seen.contains(key) {
            recover(key, at: now)
        }
    }

    /// Advances time to `now`: fires alerts whose `for` has passed, resolves alerts not seen
    /// for `resolveTimeout`, and returns the mails due, oldest group first. Call it often
    /// (every few seconds); it is cheap and idempotent for a given `now`.
    public mutating func step(now: Date) -> [AlertNotification] {
        for (key, alert) in state.alerts where alert.state != .resolved {
            if now.timeIntervalSince(alert.lastSeen) > policy.resolveTimeout {
                recover(key, at: now)
            } else if alert.state == .pending && now.timeIntervalSince(alert.since) >= policy.forDuration {
                state.alerts[key]?.state = .firing
                state.alerts[key]?.firingSince = now
            }
        }
        let sendable = Set(state.alerts.values.filter { $0.state == .firing && !isMuted($0, at: now) && !AlertRule.conditions.contains($0.key.rule) }.map(\.key))
        let rules = Set(state.alerts.keys.map(\.rule)).union(state.groups.keys).sorted()
        var mails: [AlertNotification] = []
        for rule in rules {
            if let mail = decide(rule, sendable: sendable.filter { $0.rule == rule }, now: now) { mails.append(mail) }
        }
        // Forget resolved alerts no group still has to report.
        for (key, alert) in state.alerts where alert.state == .resolved && state.groups[key.rule]?.notified.contains(key) != true {
            state.alerts[key] = nil
        }
        for (rule, group) in state.groups where group.notified.isEmpty && group.waitingSince == nil && group.threadRoot == nil {
            state.groups[rule] = nil
        }
        return mails
    }

    /// The alerts currently firing and not muted, for a status page.
    public func firing(at now: Date) -> [Alert] {
        state.alerts.values.filter { $0.state == .firing && !isMuted($0, at: now) && !AlertRule.conditions.contains($0.key.rule) }
            .sorted { $0.key < $1.key }
    }

    /// Whether an alert is silenced, inhibited by another active alert, or about an offline node.
    public func isMuted(_ alert: Alert, at now: Date) -> Bool {
        if isOffline(alert.signal) { return true }
        if policy.silences.contains(where: { $0.mutes(alert.key, at: now) }) { return true }
        return policy.inhibitions.contains { rule in
            guard rule.targets.contains(alert.key.rule) else { return false }
            return state.alerts.values.contains { source in
                source.key.rule == rule.source && source.state != .resolved && source.key != alert.key
                    && (!rule.sameNode || (source.signal.node != nil && source.signal.node == alert.signal.node))
            }
        }
    }

    private func isOffline(_ signal: AlertSignal) -> Bool {
        signal.node.map(policy.offlineNodes.contains) ?? false
    }

    private mutating func recover(_ key: AlertKey, at now: Date) {
        guard let alert = state.alerts[key] else { return }
        switch alert.state {
        case .pending: state.alerts[key] = nil
        case .firing:
            state.alerts[key]?.state = .resolved
            state.alerts[key]?.resolvedAt = now
        case .resolved: break
        }
    }

    /// Whether `rule`'s group gets a mail at `now`, given the alerts that may be sent.
    private mutating func decide(_ rule: AlertRule, sendable: Set<AlertKey>, now: Date) -> AlertNotification? {
        var group = state.groups[rule] ?? GroupState()
        defer { state.groups[rule] = group }
        let resolved = group.notified.filter { state.alerts[$0]?.state ?? .resolved == .resolved }
        // Mailed as firing, now muted (silenced, inhibited) but not recovered: dropped quietly.
        group.notified = group.notified.filter { sendable.contains($0) || resolved.contains($0) }
        let added = sendable.subtracting(group.notified)
        let sinceLast = group.lastSent.map { now.timeIntervalSince($0) } ?? .infinity
        let due: Bool
        if !added.isEmpty && group.notified.isEmpty && group.threadRoot == nil {
            let waitingSince = group.waitingSince ?? now
            group.waitingSince = waitingSince
            due = now.timeIntervalSince(waitingSince) >= policy.groupWait
        } else if !added.isEmpty || !resolved.isEmpty {
            due = sinceLast >= policy.groupInterval
        } else {
            group.waitingSince = nil
            due = !sendable.isEmpty && sinceLast >= policy.repeatInterval
        }
        guard due else { return nil }
        state.sequence += 1
        let messageID = "alert-\(rule.rawValue)-\(state.sequence)-\(Int(now.timeIntervalSince1970))"
            + ".\(UInt32.random(in: .min ... .max))@\(policy.domain)"
        let firing = sendable.sorted().compactMap { state.alerts[$0] }
        let mail = AlertNotification(
            status: firing.isEmpty ? .resolved : .firing, group: rule, firing: firing,
            resolved: resolved.sorted().compactMap { state.alerts[$0] }, messageID: messageID,
            threadRoot: group.threadRoot, inReplyTo: group.lastMessageID, at: now)
        group.notified = sendable
        group.lastSent = now
        group.waitingSince = nil
        if firing.isEmpty {
            group = GroupState()   // the episode is over; the next firing starts a new thread
        } else {
            group.threadRoot = group.threadRoot ?? messageID
            group.lastMessageID = messageID
        }
        return mail
    }
}
