import FrontConfig

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// One backend's servers, balancer and failover state: the object that answers "which server
/// takes this session?"
///
/// Configuration and servers are immutable; the servers carry their own live state and the
/// failover decision sits behind a mutex, re-evaluated after every health or admin change.
/// Thread-safe.
public final class BackendRuntime: Sendable {
    public let config: BackendConfig
    public let servers: [ServerRuntime]
    public let balancer: any Balancer
    private let failover: NIOLockedValueBox<FailoverPolicy>

    /// A backend runtime; `previous` is the backend of the same name in the snapshot being
    /// replaced: its servers' live state carries over by name, and so does its failover decision
    /// (the active server by name, the backup tier, a conflict). With a `previous`, the caller
    /// calls ``reevaluate(at:)`` once this runtime is in force and acts on what it returns (a
    /// removed active server is a failover, logged, counted and acted on like any other).
    public init(config: BackendConfig, previous: BackendRuntime? = nil) {
        self.config = config
        self.servers = config.servers.enumerated().map { index, server in
            ServerRuntime(
                backendName: config.name, config: server, index: index, backendSourceIPs: config.sourceIPs,
                sourcePorts: config.sourcePorts, check: config.healthCheck,
                previous: previous?.server(named: server.name),
                addedAt: previous != nil && previous?.server(named: server.name) == nil ? .now() : nil)
        }
        self.balancer = config.balance.makeBalancer()
        let fence = config.healthCheck?.type == .redisMaster
        if let previous {
            let carried = previous.failover.withLockedValue { $0 }.carried(
                to: config.balance == .first, failback: config.failback, fence: fence,
                names: previous.servers.map(\.name), newNames: config.servers.map(\.name))
            self.failover = NIOLockedValueBox(carried)
        } else {
            self.failover = NIOLockedValueBox(
                FailoverPolicy(activePassive: config.balance == .first, failback: config.failback, fence: fence))
            _ = reevaluate()
        }
    }

    public var name: String { config.name }

    /// Whether the split-brain fence applies (redis-master checks).
    public var isFenced: Bool { config.healthCheck?.type == .redisMaster }

    /// How long a master's last passing check keeps it in the fence: `fall` × `interval`, the time
    /// its checks need to take it down.
    public var fenceWindow: Duration {
        guard let check = config.healthCheck else { return .zero }
        return check.interval * max(check.fall, 1)
    }

    /// Picks a server for `key` at `now`, skipping `excluded` (servers already tried for this
    /// session), or nil when none may take it.
    public func choose(for key: RoutingKey, at now: MonotonicTime, excluding excluded: [ServerRuntime] = [])
        -> ServerRuntime?
    {
        pick(for: key, at: now) { server in
            !excluded.contains { $0 === server } && server.acceptsNewSessions(at: now)
        }
    }

    /// Where the balancer would put a session with `key` now if every server had room: as
    /// ``choose(for:at:excluding:)``, but a server at its `max_connections` still counts, so a
    /// rebalance does not move sessions off a server only because it is full.
    public func preferredServer(for key: RoutingKey, at now: MonotonicTime) -> ServerRuntime? {
        pick(for: key, at: now) { $0.healthState.acceptsNewSessions(at: now) }
    }

    /// Servers new sessions may go to now (for rebalancing by share): under `first` the one that
    /// would be chosen; otherwise the eligible servers of the tier in use.
    public func serversTakingSessions(at now: MonotonicTime) -> [ServerRuntime] {
        if config.balance == .first { return activeServer(at: now).map { [$0] } ?? [] }
        let policy = failover.withLockedValue { $0 }
        let eligible = servers.filter { $0.healthState.acceptsNewSessions(at: now) }
        let actives = eligible.filter { !$0.config.backup }
        let backups = eligible.filter(\.config.backup)
        let tiers = policy.onBackupTier ? [backups, actives] : [actives, backups]
        return tiers.first { !$0.isEmpty } ?? []
    }

    private func pick(for key: RoutingKey, at now: MonotonicTime, eligible: (ServerRuntime) -> Bool)
        -> ServerRuntime?
    {
        let policy = failover.withLockedValue { $0 }
        if config.balance == .first {
            if policy.fence || policy.failback == .manual, let current = policy.current {
                // Fenced or pinned: only the current active server, never a second one.
                let server = servers[current]
                if eligible(server) { return server }
                if policy.fence { return nil }
            }
            if policy.fence && (policy.inConflict || policy.current == nil) { return nil }
            // Start-up: nothing is active until every server's first check answered.
            if config.healthCheck != nil && policy.current == nil && !policy.settled { return nil }
            for index in FailoverPolicy.priorityOrder(isBackup: servers.map(\.config.backup))
            where eligible(servers[index]) {
                return servers[index]
            }
            return nil
        }
        var actives: [ServerRuntime] = []
        var backups: [ServerRuntime] = []
        for server in servers where eligible(server) {
            if server.config.backup { backups.append(server) } else { actives.append(server) }
        }
        let tiers = policy.onBackupTier ? [backups, actives] : [actives, backups]
        for tier in tiers where !tier.isEmpty {
            let weights = tier.map { $0.effectiveWeight(slowStart: config.slowStart, at: now) }
            return balancer.pick(from: tier, weights: weights, key: key)
        }
        return nil
    }

    /// Re-applies the servers' usability to the failover state at `now`; call after any health or
    /// admin change, and after a reload put this runtime in force.
    public func reevaluate(at now: MonotonicTime = .now()) -> [FailoverEvent] {
        let states = servers.map(\.healthState)
        let usable = states.map(\.isUsable)
        let isBackup = servers.map(\.config.backup)
        let allChecked = states.allSatisfy { !$0.checksEnabled || $0.checked }
        let claims = fenceClaims(states, at: now)
        return failover.withLockedValue {
            $0.reevaluate(usable: usable, isBackup: isBackup, allChecked: allChecked, claims: claims)
        }
    }

    /// An operator's failback request; refused, changing nothing, while more than one server
    /// claims master on a fenced backend.
    public func operatorFailback(at now: MonotonicTime = .now()) -> Result<[FailoverEvent], FailbackRefusal> {
        let states = servers.map(\.healthState)
        let claims = fenceClaims(states, at: now)
        return failover.withLockedValue {
            $0.operatorFailback(usable: states.map(\.isUsable), isBackup: servers.map(\.config.backup), claims: claims)
        }
    }

    /// Which servers (with health `states`) still count as masters at `now` for the split-brain
    /// fence; nil on a backend without one.
    private func fenceClaims(_ states: [ServerHealthState], at now: MonotonicTime) -> [Bool]? {
        guard isFenced else { return nil }
        let window = fenceWindow
        return states.map { $0.countsInFence(at: now, window: window) }
    }

    /// Whether a session that chose `server` (after trying `tried`) would still be sent there at
    /// `now`, by the failover decision alone: checked again when its dial completes, so a dial
    /// begun before a failover does not land on the server traffic has left. Under `first` that
    /// is the active server (any server while the active one cannot take it); under the other
    /// balances a server of the tier in use. Thread-safe.
    public func stillChooses(_ server: ServerRuntime, excluding tried: [ServerRuntime], at now: MonotonicTime) -> Bool {
        let policy = failover.withLockedValue { $0 }
        let open = { (candidate: ServerRuntime) in
            !tried.contains { $0.isSameServer(as: candidate) && !$0.isSameServer(as: server) }
                && candidate.acceptsNewSessions(at: now)
        }
        if config.balance == .first {
            guard let current = policy.current, servers.indices.contains(current) else {
                return !policy.fence && policy.settled
            }
            if policy.fence { return !policy.inConflict && servers[current].isSameServer(as: server) }
            return servers[current].isSameServer(as: server) || !open(servers[current])
        }
        if server.config.backup == policy.onBackupTier { return true }
        return !servers.contains { $0.config.backup == policy.onBackupTier && open($0) }
    }

    /// The server new sessions go to under `balance: first` (for the status page); nil otherwise
    /// or when none is usable.
    public func activeServer(at now: MonotonicTime) -> ServerRuntime? {
        guard config.balance == .first else { return nil }
        let policy = failover.withLockedValue { $0 }
        if let current = policy.current, servers[current].acceptsNewSessions(at: now) { return servers[current] }
        return choose(for: RoutingKey(sourceIP: ""), at: now)
    }

    /// Whether the backup tier is in use (balances other than `first`).
    public var isOnBackupTier: Bool { failover.withLockedValue { $0.onBackupTier } }

    /// The server with this name, if any.
    public func server(named name: String) -> ServerRuntime? {
        servers.first { $0.name == name }
    }
}
