import CoreMetrics
import FrontConfig
import FrontCore
import Logging

/// Reacts to server health flips and failover decisions, wherever they come from (a failed dial on
/// the data path, an active check, an operator): logs each flip once, updates gauges and counters,
/// re-evaluates the backend's failover state, and closes sessions as `on_server_down` and
/// `on_failback` ask. Thread-safe; closing happens on each session's own thread.
public final class ServerEvents: Sendable {
    let routing: RoutingState
    let owners: SessionOwners
    let logger: Logger
    /// Paces the moves that take sessions off a server in bulk.
    public let mover: SessionMover

    init(routing: RoutingState, owners: SessionOwners, factory: any MetricsFactory, logger: Logger) {
        self.routing = routing
        self.owners = owners
        self.logger = logger
        self.mover = SessionMover(owners: owners, factory: factory, logger: logger)
    }

    /// A server flipped up or down; `cause` names the evidence (`dial`, `check`), `message` what it said.
    public func serverTransitioned(
        _ server: ServerRuntime, _ transition: HealthTransition, cause: String, message: String
    ) {
        // A session routed before a reload that changed the check reports on the runtime in force.
        let server = server.latest
        let current = routing.current
        guard let backend = current.snapshot.backend(named: server.backendName) else { return }
        let metadata: Logger.Metadata = [
            "backend": .string(backend.name), "server": .string(server.name), "cause": .string(cause),
            "message": .string(message),
        ]
        switch transition {
        case .wentUp:
            current.metrics.metrics(for: server)?.up.record(1)
            logger.notice("server up", metadata: metadata)
            rebalanceAfterSlowStart(server)
        case .wentDown:
            current.metrics.metrics(for: server)?.up.record(0)
            logger.warning("server down", metadata: metadata)
            if backend.config.onServerDown == .close {
                closeSessions(reason: .serverDown) { $0.isSameServer(as: server) }
            }
        }
        apply(backend.reevaluate(), in: backend)
    }

    /// An active check finished: count it, apply rise/fall, react to a flip. A result for a server
    /// runtime a reload has replaced meanwhile is dropped: it was taken with the old check settings.
    public func checkCompleted(_ server: ServerRuntime, _ result: CheckResult, checkType: String) {
        guard routing.snapshot.backend(named: server.backendName)?.server(named: server.name) === server else { return }
        let metrics = routing.current.metrics.metrics(for: server)
        if result.ok { metrics?.checksOK.increment() } else { metrics?.checksFailed.increment() }
        if let transition = server.checkCompleted(result) {
            serverTransitioned(server, transition, cause: "check:\(checkType)", message: result.message)
        } else if let backend = routing.snapshot.backend(named: server.backendName) {
            // No flip, but a first result can complete the start-up picture a fenced backend waits for.
            apply(backend.reevaluate(), in: backend)
        }
    }

    /// An operator changed a server's admin state (drain, maint, ready): `maint` moves its sessions
    /// off at the backend's `move_rate`; `ready` stops a move of its sessions that is under way and,
    /// with `rebalance: auto`, rebalances the backend once the server's slow start is over.
    public func adminStateChanged(_ server: ServerRuntime) {
        guard let backend = routing.snapshot.backend(named: server.backendName) else { return }
        switch server.healthState.admin {
        case .maint: moveSessions(of: server, cause: .maint)
        case .ready:
            mover.cancel(.init(backend: backend.name, server: server.name))
            rebalanceAfterSlowStart(server)
        case .drain: break
        }
        apply(backend.reevaluate(), in: backend)
    }

    /// `POST /backends/{b}/failback`: returns traffic to the highest-priority usable server now.
    public func operatorFailback(backend name: String) -> OperatorFailbackOutcome {
        guard let backend = routing.snapshot.backend(named: name) else { return .noBackend }
        switch backend.operatorFailback() {
        case .success(let events):
            apply(events, in: backend)
            return .done
        case .failure(.severalClaimMaster(let candidates)):
            let names = candidates.map { backend.servers[$0].name }
            logger.warning(
                "operator failback refused: more than one server claims master",
                metadata: ["backend": .string(name), "candidates": .string(names.joined(separator: ","))])
            return .refused("more than one server claims master (\(names.joined(separator: ", "))); traffic stays")
        }
    }

    /// Logs, counts and acts on failover decisions.
    func apply(_ events: [FailoverEvent], in backend: BackendRuntime) {
        let metrics = routing.current.metrics
        func name(_ index: Int?) -> Logger.Metadata.Value {
            guard let index, backend.servers.indices.contains(index) else { return "-" }
            return .string(backend.servers[index].name)
        }
        for event in events {
            switch event {
            case .activated(let to):
                logger.notice("active server", metadata: ["backend": .string(backend.name), "server": name(to)])
            case .failover(let from, let to):
                metrics.failovers(for: backend)?.increment()
                logger.warning(
                    "failover", metadata: ["backend": .string(backend.name), "from": name(from), "to": name(to)])
            case .failback(let from, let to):
                metrics.failovers(for: backend)?.increment()
                logger.notice(
                    "failback", metadata: ["backend": .string(backend.name), "from": name(from), "to": name(to)])
                if backend.config.onFailback == .close {
                    let keep = backend.servers[to]
                    let activePassive = backend.config.balance == .first
                    moveSessions(in: backend, cause: .failback) { server in
                        server.backendName == backend.name && !server.isSameServer(as: keep)
                            && (activePassive || server.config.backup)
                    }
                }
            case .conflict(let candidates):
                logger.error(
                    "split brain: more than one server claims master; refusing new sessions until one does",
                    metadata: [
                        "backend": .string(backend.name),
                        "candidates": .string(candidates.map { backend.servers[$0].name }.joined(separator: ",")),
                    ])
            case .failbackHeld(let current, let waiting):
                let why = backend.isFenced ? "both claim master (fence)" : "failback is manual"
                logger.notice(
                    "higher-priority server usable again, traffic stays",
                    metadata: [
                        "backend": .string(backend.name), "current": name(current), "waiting": name(waiting),
                        "why": .string(why),
                    ])
            }
        }
    }

    /// Closes, on their own threads, the sessions whose server matches.
    func closeSessions(reason: CloseReason, where matches: @escaping @Sendable (ServerRuntime) -> Bool) {
        owners.close(.server(matches), reason: reason)
    }
}

/// What `POST /backends/{b}/failback` did.
public enum OperatorFailbackOutcome: Sendable, Equatable {
    /// Traffic is on the highest-priority usable server (it may have been there already).
    case done
    /// No backend of that name.
    case noBackend
    /// Refused, nothing changed; the reason, for the answer.
    case refused(String)
}
