import FrontSession

#if canImport(Glibc)
    import Glibc
#endif

/// How a session that connects from a relay thread reports its connect phase.
struct RelayDialHooks: Sendable {
    /// Read the broker's first packet for an MQTT 5 Server Keep Alive.
    var probeServerKeepAlive: Bool
    /// The most client bytes kept for a replay before the server answers; past it, no replay.
    var replayLimit: Int
    /// Called on the relay thread with the broker's Server Keep Alive, when its CONNACK has one.
    var serverKeepAlive: @Sendable (UInt16) -> Void
    /// Called on the relay thread when the server was lost before it answered: the client waits, parked,
    /// for ``RelayEngine/redial(_:_:)``, ``RelayEngine/refuse(_:with:)`` or ``RelayEngine/close(_:)``.
    var lost: @Sendable (RelayDialLoss) -> Void
}

/// Why a dialing session has no server any more (the session machine's ``DialFailure``), with every
/// byte to send to the next one.
struct RelayDialLoss: Sendable, Equatable {
    var failure: DialFailure
    var resend: [UInt8]

    /// The connect failed (errno; ETIMEDOUT when the handler's deadline passed).
    static func failed(errno: CInt, resend: [UInt8]) -> Self {
        Self(failure: DialFailure(errno: errno, stage: .connecting, pickedPort: false), resend: resend)
    }

    /// The server closed or reset before sending a byte.
    static func silent(resend: [UInt8]) -> Self { Self(failure: .closedSilently, resend: resend) }

    /// The connect completed after a failover moved traffic away from the server: closed before a
    /// byte was sent to it (no evidence against it).
    static func superseded(resend: [UInt8]) -> Self { Self(failure: .superseded, resend: resend) }
}

/// A server socket for a session, opened (connect() called) by the handler's loop.
struct RelayServerDial: Sendable {
    /// The non-blocking socket, connected or connecting; the engine owns it from now on.
    var fd: CInt
    /// Whether it is known to be connected (a send already went through).
    var connected: Bool
    /// Every byte meant for this server so far (the PROXY header, the CONNECT, what followed it):
    /// what the next server gets if this one fails before answering.
    var bytes: [UInt8]
    /// How many of `bytes` were sent already.
    var sentCount: Int
    /// Whether the session is still replayed once connected, until the server answers (MQTT with a
    /// retry left); a failed connect is always retried with `bytes`.
    var replayable: Bool
    /// Called on the relay thread when a connect that was in progress completed (passive health);
    /// returns whether the session still goes to this server (a failover may have moved traffic
    /// away while it connected: then it is lost as ``RelayDialLoss/superseded(resend:)``).
    var onConnected: @Sendable () -> Bool = { true }
}
