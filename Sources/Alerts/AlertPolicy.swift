public import Config
public import Foundation

/// How the engine turns conditions into mail: timings, silences, inhibitions, the nodes that
/// never alert, and the names a message carries. Built from the configuration with
/// `init(config:cluster:)`; tests set the timings they need.
public struct AlertPolicy: Hashable, Sendable {
    /// The cluster's name in subjects (`home`).
    public var cluster: String
    /// A condition must hold this long before it fires (`alerting.for`).
    public var forDuration: TimeInterval
    /// A group still firing is mailed again after this long (`alerting.repeatInterval`).
    public var repeatInterval: TimeInterval
    /// A new group waits this long after its first alert fires, so alerts that fire together
    /// share one mail (Alertmanager's group_wait).
    public var groupWait: TimeInterval
    /// A group already mailed waits this long before a mail about a change to it (an alert
    /// added or resolved) (Alertmanager's group_interval).
    public var groupInterval: TimeInterval
    /// An alert whose condition is not reported again within this long is resolved (its probe
    /// was removed, its provider renamed).
    public var resolveTimeout: TimeInterval
    public var silences: [AlertSilence]
    public var inhibitions: [InhibitRule]
    /// Nodes the configuration marks offline: nothing about them ever alerts.
    public var offlineNodes: Set<String>
    /// The envelope sender and the `From:` header.
    public var from: String
    /// The recipients and the `To:` header.
    public var to: [String]

    public init(cluster: String, from: String, to: [String], forDuration: TimeInterval = 120,
                repeatInterval: TimeInterval = 4 * 3600, groupWait: TimeInterval = 30, groupInterval: TimeInterval = 300,
                resolveTimeout: TimeInterval = 900, silences: [AlertSilence] = [],
                inhibitions: [InhibitRule] = InhibitRule.defaults, offlineNodes: Set<String> = []) {
        self.cluster = cluster
        self.from = from
        self.to = to
        self.forDuration = forDuration
        self.repeatInterval = repeatInterval
        self.groupWait = groupWait
        self.groupInterval = groupInterval
        self.resolveTimeout = resolveTimeout
        self.silences = silences
        self.inhibitions = inhibitions
        self.offlineNodes = offlineNodes
    }

    /// The policy of a loaded configuration: `alerting.for`, `repeatInterval`, `groupWait`, `groupInterval`, `silences`,
    /// the envelope from `alerting.smtp`, the offline nodes from `cluster.nodes`.
    public init(config: AlertingConfig, cluster: ClusterConfig) {
        self.init(cluster: cluster.name, from: config.smtp.from, to: config.smtp.to,
                  forDuration: config.forDuration.seconds, repeatInterval: config.repeatInterval.seconds,
                  groupWait: config.groupWait.seconds, groupInterval: config.groupInterval.seconds,
                  silences: config.silences, offlineNodes: Set(cluster.offlineNodes.map(\.name)))
    }

    /// The domain of the sender's address, for Message-IDs.
    var domain: String { from.split(separator: "@").last.map(String.init) ?? "netagent.invalid" }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    package var seconds: TimeInterval {
        let (whole, atto) = components
        return TimeInterval(whole) + TimeInterval(atto) / 1e18
    }
}
