import FrontConfig
import FrontCore
import FrontSession

/// The bulk moves the control plane starts: evacuation, rebalancing, failback, a server in maint
/// or removed by a reload, and the shutdown drain, each a job of the ``SessionMover`` at the
/// backend's `move_rate`.
extension ServerEvents {
    /// Moves the sessions of `server` off it for `cause`, at `rate` (default: the backend's
    /// `move_rate`), at most `limit` of them when given, in place of any move of that server
    /// already running.
    func moveSessions(
        of server: ServerRuntime, cause: MoveCause, rate: Int? = nil, serverReference: String? = nil,
        within deadline: Duration? = nil, limit: Int? = nil
    ) {
        let backend = routing.snapshot.backend(named: server.backendName)
        let order = MoveOrder(
            cause: cause, serverReference: serverReference ?? backend?.config.serverReference,
            selects: { current, _ in current.isSameServer(as: server) })
        mover.start(
            .init(backend: server.backendName, server: server.name), order: order,
            rate: rate ?? backend?.config.moveRate ?? BackendConfig.defaultMoveRate,
            deadline: deadline.map { ContinuousClock.now + $0 }, limit: limit)
    }

    /// Moves the sessions `matches` selects among `backend`'s for `cause`, at `rate` (default the
    /// backend's `move_rate`).
    func moveSessions(
        in backend: BackendRuntime, cause: MoveCause, rate: Int? = nil, within deadline: Duration? = nil,
        where matches: @escaping @Sendable (ServerRuntime) -> Bool
    ) {
        let name = backend.name
        let order = MoveOrder(
            cause: cause, serverReference: backend.config.serverReference,
            selects: { server, _ in server.backendName == name && matches(server) })
        mover.start(
            .init(backend: name, server: nil), order: order, rate: rate ?? backend.config.moveRate,
            deadline: deadline.map { ContinuousClock.now + $0 })
    }

    /// Moves the sessions of `backend` that are not where its balancer would put them now, at
    /// `rate` (default `move_rate`): by client id, username or source IP, those whose server would
    /// change; otherwise each server's sessions over its weighted share. Returns at once.
    func rebalance(_ backend: BackendRuntime, rate: Int? = nil) {
        let rate = rate ?? backend.config.moveRate
        let reference = backend.config.serverReference
        switch backend.config.balance {
        case .clientID, .username, .sourceIP:
            let order = MoveOrder(cause: .rebalance, serverReference: reference) { server, key in
                guard server.backendName == backend.name,
                    let preferred = backend.preferredServer(for: key, at: .now())
                else { return false }
                return !preferred.isSameServer(as: server)
            }
            mover.start(.init(backend: backend.name, server: nil), order: order, rate: rate)
        case .roundRobin, .leastConnections, .first:
            let taking = backend.serversTakingSessions(at: .now())
            let excess = RebalanceShares.excess(
                counts: backend.servers.map(\.activeConnections),
                weights: backend.servers.map { Double($0.config.weight) },
                taking: backend.servers.map { server in taking.contains { $0 === server } })
            for (server, count) in zip(backend.servers, excess) where count > 0 {
                moveSessions(of: server, cause: .rebalance, rate: rate, serverReference: reference, limit: count)
            }
        }
    }

    /// `rebalance: auto`: once `server` has come back (or was added) and its slow start is over,
    /// its backend is rebalanced.
    func rebalanceAfterSlowStart(_ server: ServerRuntime) {
        guard let backend = routing.snapshot.backend(named: server.backendName), backend.config.rebalance == .auto
        else { return }
        let wait = backend.config.slowStart
        let name = backend.name
        Task { [self] in
            if wait > .zero { try? await Task.sleep(for: wait) }
            guard let current = routing.snapshot.backend(named: name), current.config.rebalance == .auto else { return }
            logger.notice("rebalancing", metadata: ["backend": .string(name), "after": .string(server.name)])
            rebalance(current)
        }
    }
}
