import FrontCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// What a dial's outcome says about its server (passive health), and which failures are local.
extension ClientSessionHandler {
    /// Port collisions one session retries before it counts as a failed dial.
    static let maxPortCollisions: UInt8 = 16

    /// EADDRINUSE (bind: another socket holds the port) or EADDRNOTAVAIL (connect: the 4-tuple is
    /// taken, or the port is in TIME_WAIT toward this server).
    static func isPortCollision(_ error: any Error) -> Bool {
        hasErrno(error, in: [EADDRINUSE, EADDRNOTAVAIL])
    }

    /// Whether `error`, or one of the attempts of a failed connection, is a system error in `codes`.
    static func hasErrno(_ error: any Error, in codes: Set<CInt>) -> Bool {
        if let io = error as? IOError { return codes.contains(io.errnoCode) }
        if let failed = error as? NIOConnectionError {
            return failed.connectionErrors.contains {
                ($0.error as? IOError).map { codes.contains($0.errnoCode) } ?? false
            }
        }
        return false
    }

    func noteDialSucceeded(_ server: ServerRuntime) {
        Self.noteDialSucceeded(server, events: listener.events)
    }

    /// Passive health: a dial of `server` went through (any thread: a relay thread reports the
    /// connects it saw complete).
    static func noteDialSucceeded(_ server: ServerRuntime, events: ServerEvents) {
        guard let transition = server.dialSucceeded() else { return }
        events.serverTransitioned(server, transition, cause: "dial", message: "connected")
    }

    func noteDialFailed(_ server: ServerRuntime, error: any Error) {
        listener.logger.debug(
            "dial failed",
            metadata: [
                "backend": .string(server.backendName), "server": .string(server.name),
                "error": .string("\(error)"),
            ])
        // Out of local ports or descriptors says nothing about the server: try the next candidate
        // without marking it down (that would close every session on it).
        if Self.isLocalResourceError(error) {
            listener.logger.warning(
                "dial failed for lack of a local resource; server not marked down",
                metadata: [
                    "backend": .string(server.backendName), "server": .string(server.name),
                    "error": .string("\(error)"),
                ])
            return
        }
        let now = MonotonicTime.now()
        // A connect timeout says when its dial began: a dial that went through since proves the server alive.
        var begunAt: MonotonicTime?
        if let channel = error as? ChannelError, case .connectTimeout(let timeout) = channel {
            begunAt = now.subtracting(.nanoseconds(timeout.nanoseconds))
        }
        guard let transition = server.dialFailed(at: now, definitive: Self.isDefinitive(error), begunAt: begunAt)
        else { return }
        listener.events.serverTransitioned(server, transition, cause: "dial", message: "\(error)")
    }

    /// Whether a dial failure proves nothing listens there (refused, reset) rather than that the
    /// server is slow (a timeout) or its name did not resolve.
    static func isDefinitive(_ error: any Error) -> Bool {
        if let channel = error as? ChannelError, case .connectTimeout = channel { return false }
        if error is NameResolutionError { return false }
        if let failed = error as? NIOConnectionError {
            return !failed.connectionErrors.isEmpty && failed.connectionErrors.allSatisfy { isDefinitive($0.error) }
        }
        return true
    }

    /// EADDRNOTAVAIL/EADDRINUSE (no free source port), EMFILE/ENFILE (no descriptor), ENOBUFS: the
    /// front's own limits, not the server's health.
    static func isLocalResourceError(_ error: any Error) -> Bool {
        hasErrno(error, in: [EADDRNOTAVAIL, EADDRINUSE, EMFILE, ENFILE, ENOBUFS])
    }
}
