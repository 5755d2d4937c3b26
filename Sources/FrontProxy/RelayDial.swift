import FrontSession

/// Why a driven session's server is gone before it answered (the session machine's ``DialFailure``),
/// with every byte to send to the next one.
struct RelayDialLoss: Sendable, Equatable {
    var failure: DialFailure
    var resend: [UInt8]

    /// The connect failed (errno; ETIMEDOUT when the machine's connect deadline passed).
    static func failed(errno: CInt, resend: [UInt8]) -> Self {
        Self(failure: DialFailure(errno: errno, stage: .connecting, pickedPort: false), resend: resend)
    }

    /// The server closed or reset before sending a byte.
    static func silent(resend: [UInt8]) -> Self { Self(failure: .closedSilently, resend: resend) }

    /// The connect completed after a failover moved traffic away from the server: closed before a
    /// byte was sent to it (no evidence against it).
    static func superseded(resend: [UInt8]) -> Self { Self(failure: .superseded, resend: resend) }
}

/// A server socket a driven session just opened (connect() called), as the relay takes it.
struct RelayServerSocket {
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
}
