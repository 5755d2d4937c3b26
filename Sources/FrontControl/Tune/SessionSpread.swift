import FrontConfig

/// How many of N client sessions each listener, server and (source IP, server) pair carries, for sizing.
///
/// The model is the even spread a balancer aims for: sessions split evenly over listeners (each capped
/// at its own `max_connections`); a backend's share split by weight over its active servers, or, with
/// `balance: first`, all of it on whichever server is active (so every server is sized for all of it); a
/// backup tier sized for the whole share (it takes over when no active server can); each server capped at
/// its `max_connections`; and a server's sessions split evenly over its source IPs. Pure value.
struct SessionSpread: Sendable, Equatable {
    /// One listener's share of the sessions.
    struct Listener: Sendable, Equatable {
        var name: String
        var bind: Endpoint
        var sessions: Int
    }

    /// One server and the sessions it holds at worst.
    struct Destination: Sendable, Equatable {
        var backend: String
        var server: String
        var address: Endpoint
        /// Sessions it holds at worst (its weighted share; all of the backend's with `first` or as a backup).
        var sessions: Int
        /// The server's `source_ips`, else the backend's; empty when the kernel chooses the source address.
        var sourceIPs: [String]
        /// Whether it carries sessions in normal service (counted for memory; backups only after a failover).
        var active: Bool

        /// Sessions per source IP to this server (rounded up).
        var sessionsPerSourceIP: Int {
            let count = max(sourceIPs.count, 1)
            return (sessions + count - 1) / count
        }
    }

    /// Each listener's share, in config order.
    var listeners: [Listener]
    /// Every server of every backend, in config order.
    var destinations: [Destination]

    /// Spreads `sessions` over `configuration`.
    init(configuration: FrontConfiguration, sessions: Int) {
        let listenerCount = max(configuration.listeners.count, 1)
        let even = (sessions + listenerCount - 1) / listenerCount
        listeners = configuration.listeners.map { listener in
            let share = listener.maxConnections > 0 ? min(even, listener.maxConnections) : even
            return Listener(name: listener.name, bind: listener.bind, sessions: share)
        }
        var perBackend: [String: Int] = [:]
        for (config, share) in zip(configuration.listeners, listeners) {
            perBackend[config.backend, default: 0] += share.sessions
        }
        destinations = configuration.backends.flatMap { backend in
            Self.destinations(of: backend, sessions: perBackend[backend.name] ?? 0)
        }
    }

    /// The servers of one backend carrying `sessions`.
    static func destinations(of backend: BackendConfig, sessions: Int) -> [Destination] {
        let actives = backend.servers.filter { !$0.backup }
        let backups = backend.servers.filter(\.backup)
        // With `first`, only one server carries sessions at a time: the first of the active tier.
        let firstInService = backend.servers.firstIndex { !$0.backup } ?? 0
        return backend.servers.enumerated().map { index, server in
            let tier = server.backup && !actives.isEmpty ? backups : actives.isEmpty ? backups : actives
            var load: Int
            if backend.balance == .first {
                load = sessions
            } else {
                let totalWeight = tier.reduce(0) { $0 + max($1.weight, 0) }
                load =
                    totalWeight > 0
                    ? (sessions * max(server.weight, 0) + totalWeight - 1) / totalWeight
                    : (sessions + tier.count - 1) / max(tier.count, 1)
            }
            if server.maxConnections > 0 { load = min(load, server.maxConnections) }
            let inService = backend.balance == .first ? index == firstInService : !server.backup || actives.isEmpty
            return Destination(
                backend: backend.name, server: server.name, address: server.address, sessions: load,
                sourceIPs: server.sourceIPs.isEmpty ? backend.sourceIPs : server.sourceIPs,
                active: inService)
        }
    }

    /// Sessions per (source IP, destination address) pair, summed over servers sharing an address.
    /// The empty source IP stands for "kernel-chosen".
    var sessionsPerPair: [PortPair: Int] {
        var pairs: [PortPair: Int] = [:]
        for destination in destinations {
            let ips = destination.sourceIPs.isEmpty ? [""] : destination.sourceIPs
            for ip in ips {
                pairs[PortPair(sourceIP: ip, destination: destination.address), default: 0] +=
                    destination.sessionsPerSourceIP
            }
        }
        return pairs
    }

    /// Kernel sockets at full load: the front's two per session, plus the client's when the listener is on
    /// loopback and the broker's when the server is on loopback (both then live in this kernel too).
    var kernelSockets: Int {
        let clients = listeners.reduce(0) { total, listener in
            total + listener.sessions * (IPAddressText.isLoopbackHost(listener.bind.host) ? 3 : 2)
        }
        let brokers = destinations.reduce(0) { total, destination in
            destination.active && IPAddressText.isLoopbackHost(destination.address.host)
                ? total + destination.sessions : total
        }
        return clients + brokers
    }
}

/// A (source IP, destination) pair: the unit the kernel's ephemeral port range is counted per when
/// sockets bind with `IP_BIND_ADDRESS_NO_PORT`.
struct PortPair: Sendable, Hashable {
    /// The source IP as configured, or empty for the kernel's choice.
    var sourceIP: String
    var destination: Endpoint
}
