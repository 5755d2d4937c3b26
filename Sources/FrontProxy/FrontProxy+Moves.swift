import FrontCore
import FrontSession

/// What the admin plane asks of the moves: evacuate a server, rebalance a backend, move one
/// client's session, and the shutdown drain.
extension FrontProxy {
    /// The pacer of every bulk move, for `/status`.
    public var mover: SessionMover { events.mover }

    /// `POST /backends/{b}/servers/{s}/evacuate`: the server takes no new sessions (`drain`) and
    /// its sessions move off at `rate` (default `move_rate`); the server, or why not.
    public func evacuate(backend: String, server: String, rate: Int?, serverReference: String?) -> MoveTarget {
        guard let runtime = routing.snapshot.backend(named: backend) else { return .noBackend }
        guard let target = runtime.server(named: server) else { return .noServer }
        target.setAdminState(.drain)
        events.adminStateChanged(target)
        events.moveSessions(of: target, cause: .evacuate, rate: rate, serverReference: serverReference)
        logger.notice(
            "evacuating server",
            metadata: [
                "backend": .string(backend), "server": .string(server),
                "rate": .stringConvertible(rate ?? runtime.config.moveRate),
            ])
        return .server(target)
    }

    /// `POST /backends/{b}/rebalance`: moves the sessions that are not where the balancer would put
    /// them now, at `rate` (default `move_rate`).
    public func rebalance(backend: String, rate: Int?) -> MoveTarget {
        guard let runtime = routing.snapshot.backend(named: backend) else { return .noBackend }
        events.rebalance(runtime, rate: rate)
        return .backend(runtime)
    }

    /// `POST /sessions/{client_id}/move`: moves the sessions with this client id now; how many began.
    public func moveSessions(clientID: String) async -> Int {
        let order = MoveOrder(cause: .admin, serverReference: nil) { server, key in key.clientID == clientID }
        return await owners.move(order, upTo: Int.max).0.started
    }

    /// The shutdown drain begins: every backend with a `move_rate` moves its sessions off at that
    /// rate, faster when that would not empty the front within `drain` (its last quarter is kept
    /// for stragglers). Backends with `move_rate: 0` keep their sessions until the drain ends.
    public func moveSessionsForShutdown(within drain: Duration) {
        for backend in routing.snapshot.backends where backend.config.moveRate > 0 {
            events.moveSessions(in: backend, cause: .shutdown, within: drain * 0.75) { _ in true }
        }
    }

    /// The drain ended with sessions left: they all move at once, and whatever has not ended when
    /// the moves are done, or after `grace` (a packet that never finished, a peer that never
    /// closed), is closed (`shutdown`), as is a session not yet relaying.
    public func finishShutdown(grace: Duration = .milliseconds(2_500)) async {
        for backend in routing.snapshot.backends {
            events.moveSessions(in: backend, cause: .shutdown, rate: 0) { _ in true }
        }
        let deadline = ContinuousClock.now + grace
        while activeSessions > 0, !mover.isIdle, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        await closeAllSessions(reason: .shutdown)
    }
}

/// What a move request reached.
public enum MoveTarget: Sendable {
    case server(ServerRuntime)
    case backend(BackendRuntime)
    case noBackend
    case noServer
}
