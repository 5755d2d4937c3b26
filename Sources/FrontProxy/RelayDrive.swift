import FrontCore
import FrontSession
import ProxyProtocol

/// What a relay thread keeps of a session it drives from accept to close, besides the two sockets
/// and the bytes in flight (its ``RelayedSession``): the session's decisions (``SessionMachine``),
/// its books, what the client sent before the relay, and its deadline on the thread's wheel.
/// Relay thread only (the thread that holds the session).
final class RelayDrive: WheelTimed {
    var machine: SessionMachine
    var books: SessionBooks
    /// The listener's runtime at accept, whose cap slot the session holds (and the process's, `global`).
    let listener: ListenerRuntime
    let global: ConnectionLimiter
    /// Before the relay: the CONNECT and what followed it. After a server was lost before it
    /// answered: every byte for the next one. Empty (no storage) otherwise.
    var pending: [UInt8] = []
    /// The address the client connected to (a PROXY header's, the socket's, or the listener's).
    var destination: ProxyAddress
    /// What the last failed dial said, for its log line; nil: the failure's own description.
    var dialError: String?
    /// ``pending`` holds what the last server was sent (it was lost before answering), not the
    /// client's bytes alone.
    var resend = false
    /// A server addressed by name is being resolved for this dial, by this deadline (CLOCK_MONOTONIC ns; else 0).
    var resolving: RelayDialAttempt?
    var resolveDeadline: UInt64 = 0
    /// The session whose drive this is. The two hold each other until the session ends
    /// (``RelayEngine/finishDriven(_:reason:)`` lets go), so a drive still queued or filed after
    /// its session ended reaches it safely.
    let session: RelayedSession
    /// The thread holding the session now (``RelayEngine/index`` changes with `relay_spread`).
    unowned var engine: RelayEngine

    /// The number of the last close request its thread took when it left it (`relay_spread`).
    var closesTaken: UInt64 = 0

    // Deadline bookkeeping (see WheelTimed).
    var wheelSlot: Int32 = -1
    var wheelPosition: Int32 = -1
    /// The wheel tick of the next deadline (0: none).
    var deadlineTick: Int64 = 0

    init(
        session: RelayedSession, engine: RelayEngine, listener: ListenerRuntime, global: ConnectionLimiter,
        acceptedAt: MonotonicTime, destination: ProxyAddress
    ) {
        self.session = session
        self.engine = engine
        self.listener = listener
        self.global = global
        self.destination = destination
        self.machine = SessionMachine(settings: listener.sessionSettings, acceptedAt: acceptedAt)
        self.books = SessionBooks(started: acceptedAt)
    }

    func wheelTickReached(_ tick: Int64) -> Int64? {
        guard deadlineTick > 0 else { return nil }
        guard tick >= deadlineTick else { return deadlineTick }
        deadlineTick = 0
        engine.deadlineReached(self)
        return nil
    }
}
