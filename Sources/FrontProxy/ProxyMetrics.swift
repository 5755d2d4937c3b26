import CoreMetrics
import FrontCore
import FrontSession

/// The metrics of one listener, created once when the listener starts (labels from config names only).
final class ListenerMetrics: Sendable {
    let active: Meter
    let total: Counter
    let bytesIn: Counter
    let bytesOut: Counter
    /// Dials retried because a `source_ports` port was taken outside the front's pool.
    let sourcePortCollisions: Counter
    private let rejected: [CloseReason: Counter]

    init(listener: String, factory: any MetricsFactory) {
        let labels = [("listener", listener)]
        active = Meter(label: "brokerfront_connections_active", dimensions: labels, factory: factory)
        total = Counter(label: "brokerfront_connections_total", dimensions: labels, factory: factory)
        bytesIn = Counter(
            label: "brokerfront_bytes_total", dimensions: labels + [("direction", "in")], factory: factory)
        bytesOut = Counter(
            label: "brokerfront_bytes_total", dimensions: labels + [("direction", "out")], factory: factory)
        sourcePortCollisions = Counter(
            label: "brokerfront_source_port_collisions_total", dimensions: labels, factory: factory)
        var rejected: [CloseReason: Counter] = [:]
        for reason in CloseReason.rejections {
            rejected[reason] = Counter(
                label: "brokerfront_connections_rejected_total",
                dimensions: labels + [("reason", reason.rawValue)], factory: factory)
        }
        self.rejected = rejected
    }

    /// Counts a refused connection under its reason.
    func countRejection(_ reason: CloseReason) {
        rejected[reason]?.increment()
    }
}

/// The metrics of one server.
final class ServerMetrics: Sendable {
    /// `backend/server`: the series' identity across snapshots.
    let key: String
    let up: Gauge
    let active: Meter
    let checksOK: Counter
    let checksFailed: Counter
    /// `brokerfront_sessions_moved_total`, by why the sessions were moved.
    private let moved: [MoveCause: Counter]

    init(backend: String, server: String, factory: any MetricsFactory) {
        key = "\(backend)/\(server)"
        let labels = [("backend", backend), ("server", server)]
        up = Gauge(label: "brokerfront_server_up", dimensions: labels, factory: factory)
        active = Meter(label: "brokerfront_server_connections_active", dimensions: labels, factory: factory)
        checksOK = Counter(
            label: "brokerfront_health_checks_total", dimensions: labels + [("result", "ok")], factory: factory)
        checksFailed = Counter(
            label: "brokerfront_health_checks_total", dimensions: labels + [("result", "fail")], factory: factory)
        var moved: [MoveCause: Counter] = [:]
        for cause in MoveCause.allCases {
            moved[cause] = Counter(
                label: "brokerfront_sessions_moved_total", dimensions: labels + [("reason", cause.rawValue)],
                factory: factory)
        }
        self.moved = moved
    }

    /// Counts a session moved off the server for `cause`.
    func countMoved(_ cause: MoveCause) {
        moved[cause]?.increment()
    }

    /// Takes the server's series out of `/metrics`, but for its moved sessions' counts.
    func destroy() {
        up.destroy()
        active.destroy()
        checksOK.destroy()
        checksFailed.destroy()
        // `brokerfront_sessions_moved_total` stays: a removed server's sessions move after the
        // reload that removed it, and are counted there.
    }
}

/// Server metrics for every server of a routing snapshot, looked up by the server's identity.
final class SnapshotMetrics: Sendable {
    private let servers: [ObjectIdentifier: ServerMetrics]
    /// Per backend: its name (the series' identity across snapshots) and its failover counter.
    private let failovers: [ObjectIdentifier: (backend: String, counter: Counter)]
    private let sourcePorts: [String: Meter]

    init(snapshot: RoutingSnapshot, factory: any MetricsFactory) {
        var servers: [ObjectIdentifier: ServerMetrics] = [:]
        var failovers: [ObjectIdentifier: (backend: String, counter: Counter)] = [:]
        var sourcePorts: [String: Meter] = [:]
        for backend in snapshot.backends {
            for ip in backend.servers.flatMap(\.sourceIPs) where sourcePorts[ip] == nil {
                sourcePorts[ip] = Meter(
                    label: "brokerfront_source_ports_in_use", dimensions: [("source_ip", ip)], factory: factory)
            }
            failovers[ObjectIdentifier(backend)] = (
                backend.name,
                Counter(label: "brokerfront_failovers_total", dimensions: [("backend", backend.name)], factory: factory)
            )
            for server in backend.servers {
                let metrics = ServerMetrics(backend: backend.name, server: server.name, factory: factory)
                metrics.up.record(server.healthState.operational == .up ? 1 : 0)
                servers[ObjectIdentifier(server)] = metrics
            }
        }
        self.servers = servers
        self.failovers = failovers
        self.sourcePorts = sourcePorts
    }

    /// Takes out of `/metrics` the series of servers, backends and source IPs that `successor` (the
    /// snapshot a reload installed) no longer has; kept ones share their series with it. Sessions
    /// still running on a removed server update a series no longer exported, until they close.
    func destroySeries(missingFrom successor: SnapshotMetrics) {
        let keptServers = Set(successor.servers.values.map(\.key))
        for metrics in servers.values where !keptServers.contains(metrics.key) { metrics.destroy() }
        let keptBackends = Set(successor.failovers.values.map(\.backend))
        for (name, counter) in failovers.values where !keptBackends.contains(name) { counter.destroy() }
        for (ip, meter) in sourcePorts where successor.sourcePorts[ip] == nil { meter.destroy() }
    }

    /// `brokerfront_source_ports_in_use{source_ip}`: upstream connections bound to this source IP.
    func sourcePorts(for ip: String) -> Meter? {
        sourcePorts[ip]
    }

    func failovers(for backend: BackendRuntime) -> Counter? {
        failovers[ObjectIdentifier(backend)]?.counter
    }

    /// The metrics of `server`; public through ``RoutingState`` for the health checker.
    func metrics(for server: ServerRuntime) -> ServerMetrics? {
        servers[ObjectIdentifier(server)]
    }
}
