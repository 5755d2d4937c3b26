import FrontConfig

/// One backend's servers and balancer: the object that answers "which server takes this session?"
///
/// Immutable apart from the servers' own counters; part of a ``RoutingSnapshot``. Thread-safe.
public final class BackendRuntime: Sendable {
    public let config: BackendConfig
    public let servers: [ServerRuntime]
    public let balancer: any Balancer

    public init(config: BackendConfig) {
        self.config = config
        self.servers = config.servers.enumerated().map { index, server in
            ServerRuntime(backendName: config.name, config: server, index: index, backendSourceIPs: config.sourceIPs)
        }
        self.balancer = config.balance.makeBalancer()
    }

    public var name: String { config.name }

    /// Picks a server for `key` at `now`, skipping `excluded` (servers already tried for this
    /// session). Active servers are preferred; backups are used only when no active one can take it.
    public func choose(for key: RoutingKey, at now: MonotonicTime, excluding excluded: [ServerRuntime] = [])
        -> ServerRuntime?
    {
        var actives: [ServerRuntime] = []
        var backups: [ServerRuntime] = []
        for server in servers where server.acceptsNewSessions(at: now) {
            if excluded.contains(where: { $0 === server }) { continue }
            if server.config.backup { backups.append(server) } else { actives.append(server) }
        }
        if !actives.isEmpty { return balancer.pick(from: actives, key: key) }
        if !backups.isEmpty { return balancer.pick(from: backups, key: key) }
        return nil
    }

    /// The server new sessions go to under `balance: first` (for the status page); nil otherwise
    /// or when none is usable.
    public func activeServer(at now: MonotonicTime) -> ServerRuntime? {
        guard config.balance == .first else { return nil }
        return choose(for: RoutingKey(sourceIP: ""), at: now)
    }

    /// The server with this name, if any.
    public func server(named name: String) -> ServerRuntime? {
        servers.first { $0.name == name }
    }
}
