import CoreMetrics
import FrontConfig
import FrontCore
import FrontSession
import Logging
import NIOSSL

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// The routing snapshot in force and the metrics of its servers, swapped together on reload.
public final class RoutingState: Sendable {
    private let state: NIOLockedValueBox<(snapshot: RoutingSnapshot, metrics: SnapshotMetrics)>
    private let factory: any MetricsFactory

    init(snapshot: RoutingSnapshot, factory: any MetricsFactory) {
        self.factory = factory
        self.state = NIOLockedValueBox((snapshot, SnapshotMetrics(snapshot: snapshot, factory: factory)))
    }

    /// The snapshot new sessions are routed with.
    public var snapshot: RoutingSnapshot { state.withLockedValue { $0.snapshot } }

    var current: (snapshot: RoutingSnapshot, metrics: SnapshotMetrics) { state.withLockedValue { $0 } }

    /// Installs a new snapshot; sessions already routed keep the servers they hold.
    public func replace(with snapshot: RoutingSnapshot) {
        let metrics = SnapshotMetrics(snapshot: snapshot, factory: factory)
        let previous = state.withLockedValue { state in
            defer { state = (snapshot, metrics) }
            return state.metrics
        }
        previous.destroySeries(missingFrom: metrics)
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
    /// The TLS context when the listener terminates TLS.
    let tls: NIOSSLContext?
    /// `client_ids` allow/deny globs.
    let clientIDPolicy: ClientIDFilterPolicy
    /// `limits.per_source_ip` counts (kept across reloads).
    let sourceLimiter: SourceIPLimiter
    /// `limits.accept_rate`, nil when 0.
    let acceptRate: AcceptRateLimiter?
    /// `limits.max_pending_connect_bytes` (kept across reloads).
    let pendingConnect: PendingConnectBudget
    /// What each session's ``SessionMachine`` reads of ``config``.
    let sessionSettings: SessionSettings

    /// A listener runtime; `previous` (the same listener before a reload) lends its limiter and
    /// metrics, so open connections stay counted against the cap and on the same series.
    init(
        config: ListenerConfig, routing: RoutingState, events: ServerEvents, factory: any MetricsFactory,
        logger: Logger, tls: NIOSSLContext? = nil, previous: ListenerRuntime? = nil
    ) {
        self.events = events
        self.tls = tls
        self.sessionSettings = SessionSettings(listener: config)
        self.clientIDPolicy = ClientIDFilterPolicy(config.clientIDs)
        if let limiter = previous?.sourceLimiter {
            limiter.cap = config.limits.perSourceIP
            self.sourceLimiter = limiter
        } else {
            self.sourceLimiter = SourceIPLimiter(cap: config.limits.perSourceIP)
        }
        if config.limits.acceptRate > 0 {
            let kept = previous?.acceptRate
            self.acceptRate =
                kept?.rate == config.limits.acceptRate
                ? kept : AcceptRateLimiter(rate: config.limits.acceptRate, connectTimeout: config.connectTimeout)
        } else {
            self.acceptRate = nil
        }
        if let budget = previous?.pendingConnect {
            budget.capacity = config.limits.maxPendingConnectBytes
            self.pendingConnect = budget
        } else {
            self.pendingConnect = PendingConnectBudget(capacity: config.limits.maxPendingConnectBytes)
        }
        self.config = config
        self.metrics = previous?.metrics ?? ListenerMetrics(listener: config.name, factory: factory)
        if let limiter = previous?.limiter {
            limiter.capacity = config.maxConnections
            self.limiter = limiter
        } else {
            self.limiter = ConnectionLimiter(capacity: config.maxConnections)
        }
        self.routing = routing
        var logger = logger
        logger[metadataKey: "listener"] = .string(config.name)
        self.logger = logger
    }
}

/// The runtime new connections of one listening socket get; a reload swaps it without rebinding
/// when the socket itself (bind, protocol, reuse_port) is unchanged. Thread-safe.
final class ListenerSlot: Sendable {
    private let runtime: NIOLockedValueBox<ListenerRuntime>

    init(_ runtime: ListenerRuntime) {
        self.runtime = NIOLockedValueBox(runtime)
    }

    var current: ListenerRuntime {
        get { runtime.withLockedValue { $0 } }
        set { runtime.withLockedValue { $0 = newValue } }
    }
}

extension ListenerRuntime {
    /// The listener's filters after the CONNECT, in order: client id allow/deny, then `accept_rate`
    /// unless `rateApplied` (a TLS listener applied it at accept). `.queued`: over the rate with room
    /// in its queue, so the caller queues the session; both shells ask here.
    func admissionVerdict(clientID: String?, rateApplied: Bool = false) -> AdmissionVerdict {
        if let clientID, !clientIDPolicy.permits(clientID) { return .refused(.denied) }
        if !rateApplied, let rate = acceptRate, !rate.tryTake() {
            return rate.tryQueue() ? .queued : .refused(.limit)
        }
        return .admitted
    }
}
