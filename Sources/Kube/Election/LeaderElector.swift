public import Foundation
public import Logging

/// How a `LeaderElector` takes part: which Lease, who it is, and client-go's three timings.
public struct LeaderElectionSettings: Sendable, Hashable {
    /// The Lease's name and namespace.
    public var leaseName: String
    public var namespace: String
    /// This process's `holderIdentity`; must differ between replicas running at once.
    public var identity: String
    /// How long a lease holds without renewal (written as `leaseDurationSeconds`; whole seconds).
    public var leaseDuration: Duration
    /// The leader stops leading when it has not renewed for this long.
    public var renewDeadline: Duration
    /// How often to try to acquire or renew.
    public var retryPeriod: Duration

    public init(leaseName: String, namespace: String, identity: String, leaseDuration: Duration = .seconds(15),
                renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2)) {
        self.leaseName = leaseName
        self.namespace = namespace
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }
}

/// Leader election on a `coordination.k8s.io/v1` Lease with client-go's semantics, using only
/// the verbs get, create and update.
///
/// - A lease is taken when it does not exist (create), has no holder, or has not changed for
///   its `leaseDurationSeconds` as measured on the local monotonic clock from when this process
///   first saw it so — the remote `renewTime` is never compared with the local clock.
/// - The leader renews every `retryPeriod`. Leadership is granted up to the start of the last
///   successful renewal plus `renewDeadline`; `renewDeadline < leaseDuration`, and another
///   replica starts its `leaseDuration` wait only after that renewal landed, so the old leader
///   stops writing at least `leaseDuration − renewDeadline` before a new one can start.
/// - Every write carries the `resourceVersion` it read, so of two replicas racing for a lease
///   exactly one wins (the other gets 409 Conflict).
/// - `release()` (graceful shutdown) stops leading first, then writes the lease with no holder
///   and `leaseDurationSeconds: 1`, so another replica takes over at its next try.
public actor LeaderElector {
    public nonisolated let settings: LeaderElectionSettings
    public nonisolated let leadership: Leadership
    let client: KubeClient
    let logger: Logger

    /// The lease as last read or written, and when its record last changed on our clock.
    private var lease: KubeObject?
    private var observedRecord: JSONValue?
    private var observedAt = ContinuousClock.now

    public init(client: KubeClient, settings: LeaderElectionSettings, leadership: Leadership = Leadership(),
                logger: Logger = Logger(label: "netagent.leader-election")) {
        self.client = client
        self.settings = settings
        self.leadership = leadership
        self.logger = logger
    }

    /// Tries to acquire, then renews, every `retryPeriod` (with client-go's jitter while not
    /// leading), until the task is cancelled. Leadership lapses at its deadline; after that the
    /// elector keeps trying, as a candidate like any other.
    public func run() async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            // An attempt that succeeded only after its own deadline (a slow API) grants nothing;
            // the next one, a retry period on, renews from a fresh start.
            if await tryAcquireOrRenew(), ContinuousClock.now < started + settings.renewDeadline {
                let wasLeading = leadership.isLeader
                leadership.grant(until: started + settings.renewDeadline)
                if !wasLeading { logger.notice("leader election: \(settings.identity) leads (lease \(settings.namespace)/\(settings.leaseName))") }
            } else {
                expireIfDue()
            }
            var next = started + settings.retryPeriod
            if let deadline = leadership.deadline {
                next = min(next, deadline)
            } else {
                // client-go's acquire loop: JitterUntil(retryPeriod, 1.2).
                next += settings.retryPeriod * Double.random(in: 0..<1.2)
            }
            do { try await ContinuousClock().sleep(until: next) } catch { break }
            expireIfDue()
        }
    }

    /// Stops leading, then gives the lease back if this process holds it: no holder and
    /// `leaseDurationSeconds: 1`. Call after `run` returned (graceful shutdown).
    public func release() async {
        leadership.released()
        leadership.finish()
        guard let lease, observedRecord?["holderIdentity"]?.stringValue == settings.identity else { return }
        let now = MicroTime.format(Date())
        var spec = record(of: lease)
        spec["holderIdentity"] = .string("")
        spec["leaseDurationSeconds"] = .int(1)
        spec["acquireTime"] = .string(now)
        spec["renewTime"] = .string(now)
        do {
            _ = try await client.replace(.leases, namespace: settings.namespace, object: replacingSpec(of: lease, with: spec),
                                         timeout: settings.renewDeadline)
            logger.notice("leader election: \(settings.identity) released the lease \(settings.namespace)/\(settings.leaseName)")
        } catch {
            logger.warning("leader election: could not release the lease \(settings.namespace)/\(settings.leaseName): \(error)")
        }
    }

    /// Revokes leadership once its deadline has passed without a renewal.
    private func expireIfDue() {
        guard let deadline = leadership.deadline, ContinuousClock.now >= deadline else { return }
        leadership.revoke()
        logger.warning("leader election: \(settings.identity) could not renew the lease for \(settings.renewDeadline); stopped leading")
    }

    /// One attempt, as client-go's `tryAcquireOrRenew`. True when this process holds the lease
    /// as of the write that just succeeded.
    private func tryAcquireOrRenew() async -> Bool {
        let now = MicroTime.format(Date())
        let seconds = Int64(settings.leaseDuration.components.seconds)
        let holding = observedRecord?["holderIdentity"]?.stringValue == settings.identity

        // Fast path: the leader renews from the object it wrote last, without a read.
        if holding, leadership.isLeader, let lease {
            var spec = record(of: lease)
            spec["renewTime"] = .string(now)
            spec["leaseDurationSeconds"] = .int(seconds)
            if await write(replacingSpec(of: lease, with: spec)) { return true }
        }

        let current: KubeObject
        do {
            current = try await client.get(.leases, namespace: settings.namespace, name: settings.leaseName, timeout: requestTimeout())
        } catch where error.refusal == .notFound {
            let spec: [String: JSONValue] = [
                "holderIdentity": .string(settings.identity), "leaseDurationSeconds": .int(seconds),
                "acquireTime": .string(now), "renewTime": .string(now), "leaseTransitions": .int(0),
            ]
            let object: JSONValue = .object([
                "metadata": .object(["name": .string(settings.leaseName), "namespace": .string(settings.namespace)]),
                "spec": .object(spec),
            ])
            do {
                observe(try await client.create(.leases, namespace: settings.namespace, object: object, timeout: requestTimeout()))
                return true
            } catch {
                logger.debug("leader election: create \(settings.namespace)/\(settings.leaseName): \(error)")
                return false
            }
        } catch {
            logger.info("leader election: read \(settings.namespace)/\(settings.leaseName): \(error)")
            return false
        }

        let record = record(of: current)
        lease = current
        if JSONValue.object(record) != observedRecord {
            observedRecord = .object(record)
            observedAt = ContinuousClock.now
        }
        let holder = record["holderIdentity"]?.stringValue ?? ""
        let held = holder == settings.identity
        let duration = Duration.seconds(record["leaseDurationSeconds"]?.intValue ?? 0)
        if !holder.isEmpty, !held, ContinuousClock.now < observedAt + duration {
            return false  // another holds it and has renewed within its duration, as far as we have seen
        }
        var spec = record
        spec["holderIdentity"] = .string(settings.identity)
        spec["leaseDurationSeconds"] = .int(seconds)
        spec["renewTime"] = .string(now)
        if !held {
            spec["acquireTime"] = .string(now)
            spec["leaseTransitions"] = .int(Int64((record["leaseTransitions"]?.intValue ?? 0) + 1))
        }
        return await write(replacingSpec(of: current, with: spec))
    }

    /// PUTs `object` (its resourceVersion guards it); true when it landed.
    private func write(_ object: JSONValue) async -> Bool {
        do {
            observe(try await client.replace(.leases, namespace: settings.namespace, object: object, timeout: requestTimeout()))
            return true
        } catch {
            if error.refusal == .conflict {
                logger.debug("leader election: \(settings.namespace)/\(settings.leaseName) changed under us: \(error)")
            } else {
                logger.info("leader election: update \(settings.namespace)/\(settings.leaseName): \(error)")
            }
            return false
        }
    }

    /// Takes `written` as the lease we hold now.
    private func observe(_ written: KubeObject) {
        lease = written
        observedRecord = .object(record(of: written))
        observedAt = ContinuousClock.now
    }

    /// A request may take one retry period, and no longer than leadership has left.
    private func requestTimeout() -> Duration {
        var timeout = settings.retryPeriod
        if let deadline = leadership.deadline { timeout = min(timeout, deadline - ContinuousClock.now) }
        return max(timeout, .milliseconds(50))
    }

    private func record(of lease: KubeObject) -> [String: JSONValue] {
        guard case .object(let spec)? = lease.raw["spec"] else { return [:] }
        return spec
    }

    private func replacingSpec(of lease: KubeObject, with spec: [String: JSONValue]) -> JSONValue {
        guard case .object(var members) = lease.raw else { return .object(["spec": .object(spec)]) }
        members["spec"] = .object(spec)
        return .object(members)
    }
}

/// Kubernetes' MicroTime: RFC 3339 in UTC with exactly six fractional digits.
public enum MicroTime {
    public static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = seconds.rounded(.down)
        var micros = Int(((seconds - whole) * 1_000_000).rounded())
        if micros == 1_000_000 {
            whole += 1
            micros = 0
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: whole))
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))."
            + pad(micros, 6) + "Z"
    }
}
