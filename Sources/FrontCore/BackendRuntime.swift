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
    /// replaced: its servers' live state carries over by name, and its failover decision too when
    /// the server list and failover settings are unchanged.
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
        let fresh = FailoverPolicy(
            activePassive: config.balance == .first, failback: config.failback,
            fence: config.healthCheck?.type == .redisMaster)
        if let previous, previous.servers.map(\.name) == servers.map(\.name),
            previous.config.balance == config.balance, previous.config.failback == config.failback,
            previous.config.healthCheck?.type == config.healthCheck?.type
        {
            self.failover = NIOLockedValueBox(previous.failover.withLockedValue { $0 })
        } else {
            self.failover = NIOLockedValueBox(fresh)
        }
        _ = reevaluate()
    }

    public var name: String { config.name }

    /// Whether the split-brain fence applies (redis-master checks).
    public var isFenced: Bool { config.healthCheck?.type == .redisMaster }

    /// Picks a server for `key` at `now`, skipping `excluded` (servers already tried for this
    /// session), or nil when none may take it.
    public func choose(for key: RoutingKey, at now: MonotonicTime, excluding excluded: [ServerRuntime] = [])
        -> ServerRuntime?
    {
        let policy = failover.withLockedValue { $0 }
        let eligible: (ServerRuntime) -> Bool = { server in
            !excluded.contains { $0 === server } && server.acceptsNewSessions(at: now)
        }
        if config.balance == .first {
            if policy.fence || policy.failback == .manual, let current = policy.current {
                // Fenced or pinned: only the current active server, never a second one.
                let server = servers[current]
                if eligible(server) { return server }
                if policy.fence { return nil }
            }
            if policy.fence && (policy.inConflict || policy.current == nil) { return nil }
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

    /// Re-applies the servers' usability to the failover state; call after any health or admin change.
    public func reevaluate() -> [FailoverEvent] {
        let usable = servers.map(\.isUsable)
        let isBackup = servers.map(\.config.backup)
        let allChecked = servers.allSatisfy { !$0.healthState.isChecked || $0.healthState.checked }
        return failover.withLockedValue { $0.reevaluate(usable: usable, isBackup: isBackup, allChecked: allChecked) }
    }

    /// An operator's failback request.
    public func operatorFailback() -> [FailoverEvent] {
        let usable = servers.map(\.isUsable)
        let isBackup = servers.map(\.config.backup)
        return failover.withLockedValue { $0.operatorFailback(usable: usable, isBackup: isBackup) }
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
