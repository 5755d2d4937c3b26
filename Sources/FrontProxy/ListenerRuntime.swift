import CoreMetrics
import FrontConfig
import FrontCore
import Logging
import Synchronization

/// The routing snapshot in force and the metrics of its servers, swapped together on reload.
public final class RoutingState: Sendable {
    private let state: Mutex<(snapshot: RoutingSnapshot, metrics: SnapshotMetrics)>
    private let factory: any MetricsFactory

    init(snapshot: RoutingSnapshot, factory: any MetricsFactory) {
        self.factory = factory
        self.state = Mutex((snapshot, SnapshotMetrics(snapshot: snapshot, factory: factory)))
    }

    /// The snapshot new sessions are routed with.
    public var snapshot: RoutingSnapshot { state.withLock { $0.snapshot } }

    var current: (snapshot: RoutingSnapshot, metrics: SnapshotMetrics) { state.withLock { $0 } }

    /// Installs a new snapshot; sessions already routed keep the servers they hold.
    public func replace(with snapshot: RoutingSnapshot) {
        let metrics = SnapshotMetrics(snapshot: snapshot, factory: factory)
        state.withLock { $0 = (snapshot, metrics) }
    }
}

/// Everything a session on one listener needs, shared by all its sessions. Immutable; thread-safe.
final class ListenerRuntime: Sendable {
    let config: ListenerConfig
    let metrics: ListenerMetrics
    let limiter: ConnectionLimiter
    let routing: RoutingState
    let events: ServerEvents
    let logger: Logger

    init(
        config: ListenerConfig, routing: RoutingState, events: ServerEvents, factory: any MetricsFactory,
        logger: Logger
    ) {
        self.events = events
        self.config = config
        self.metrics = ListenerMetrics(listener: config.name, factory: factory)
        self.limiter = ConnectionLimiter(capacity: config.maxConnections)
        self.routing = routing
        var logger = logger
        logger[metadataKey: "listener"] = .string(config.name)
        self.logger = logger
    }
}
