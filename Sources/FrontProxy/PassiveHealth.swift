import FrontCore
import FrontSession
import Logging
import NIOCore
import NIOPosix

/// What a session's dials tell the servers' health (passive checks), and whether a dial that
/// completed may still be used: thread-safe, called by every session driver (the channel shell on
/// its loop, a relay thread on its own).
enum PassiveHealth {
    /// A dial of `server` went through.
    static func dialSucceeded(_ server: ServerRuntime, events: ServerEvents) {
        guard let transition = server.dialSucceeded() else { return }
        events.serverTransitioned(server, transition, cause: "dial", message: "connected")
    }

    /// Passive health hears of a failed dial that `counts`; one that does not (out of local ports or
    /// descriptors) is only warned about: marking the server down would close every session on it.
    /// `error`: what the dial said, when more than the failure itself.
    static func dialFailed(
        _ server: ServerRuntime, _ failure: DialFailure, counts: Bool, error: String?, listener: ListenerRuntime
    ) {
        let error = error ?? "\(failure)"
        let metadata: Logger.Metadata = [
            "backend": .string(server.backendName), "server": .string(server.name), "error": .string(error),
        ]
        listener.logger.debug("dial failed", metadata: metadata)
        guard counts else {
            listener.logger.warning(
                "dial failed for lack of a local resource; server not marked down", metadata: metadata)
            return
        }
        let transition = server.dialFailed(at: .now(), definitive: failure.isDefinitive, begunAt: failure.begunAt)
        guard let transition else { return }
        listener.events.serverTransitioned(server, transition, cause: "dial", message: error)
    }

    /// Whether the current routing snapshot's backend `backend` still sends a session that tried
    /// `tried` to `server` (a failover may have moved traffic away while the dial connected).
    static func stillChosen(
        _ server: ServerRuntime, tried: [ServerRuntime], backend: String?, routing: RoutingState
    ) -> Bool {
        guard let backend, let current = routing.snapshot.backend(named: backend) else { return true }
        return current.stillChooses(server, excluding: tried, at: .now())
    }

    /// A dial of `server` completed after failover moved traffic away and was closed unused.
    static func dialSuperseded(_ server: ServerRuntime, logger: Logger) {
        logger.info(
            "dial completed after a failover; closed unused, the session goes to the server chosen now",
            metadata: ["backend": .string(server.backendName), "server": .string(server.name)])
    }

    /// What a dial error means: a connect timeout, a system error (`IOError`, or one of the
    /// attempts of a connection to a name), anything else as a refusal.
    static func dialFailure(_ error: any Error, port: Int?) -> DialFailure {
        let picked = port != nil
        if let channel = error as? ChannelError, case .connectTimeout = channel { return .timedOut(begunAt: nil) }
        // A name that did not resolve says nothing of whether the server listens.
        if error is NameResolutionError { return .timedOut(begunAt: nil) }
        if let io = error as? IOError {
            return DialFailure(errno: io.errnoCode, stage: .connecting, pickedPort: picked)
        }
        guard let failed = error as? NIOConnectionError else { return .refused }
        let failures = failed.connectionErrors.map { Self.dialFailure($0.error, port: port) }
        // A local shortage in any attempt says nothing about the server; the rest count only when
        // every attempt was refused (a timeout or a name that did not resolve is ambiguous).
        if let local = failures.first(where: { !$0.isEvidence }) { return local }
        if !failures.isEmpty, failures.allSatisfy(\.isDefinitive) { return failures[0] }
        return .timedOut(begunAt: nil)
    }
}
