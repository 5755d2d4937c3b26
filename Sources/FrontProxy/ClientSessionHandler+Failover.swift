import FrontCore
import FrontSession
import Logging

/// A dial's completion checked against the failover decision: a dial begun before a failover
/// (or a failback) would otherwise land on the server traffic has just left, with no session of its
/// own yet for the flip to close. When it completes, the current backend of the session's name is
/// asked again (``BackendRuntime/stillChooses(_:excluding:at:)``); if it no longer chooses that
/// server, the connection is closed before a byte is sent to it and the session goes to the server
/// chosen now, without spending an attempt (the server was not at fault: ``DialFailure/superseded``).
extension ClientSessionHandler {
    /// Whether this session's dial of `server`, just completed, may be used: runs on the loop.
    func stillChosen(_ server: ServerRuntime) -> Bool {
        PassiveHealth.stillChosen(server, tried: machine.tried, backend: backend?.name, routing: listener.routing)
    }

    /// A dial of `server` from `source` (and `port`) that completed after failover moved traffic
    /// away, its connection already closed unused: the source goes back to the server's pool, and
    /// while the session is still dialing, it goes on with the server chosen now.
    func dialSuperseded(_ server: ServerRuntime, source: String?, port: Int?) {
        if let source { books.sourceReleased(source, port: UInt16(port ?? 0), on: server) }
        guard machine.phase == .dialing else { return }
        noteDialSuperseded(server)
        feed(.dialFailed(.superseded))
    }

    /// A dial of `server` completed after failover moved traffic away and was closed unused.
    func noteDialSuperseded(_ server: ServerRuntime) {
        PassiveHealth.dialSuperseded(server, logger: listener.logger)
    }
}
