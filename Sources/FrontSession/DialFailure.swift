import FrontCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a dial of a server did not give the session its server, as the session's decisions need it:
/// whether it is evidence against the server (passive health), whether to retry the same server,
/// and whether the client's bytes already went out.
///
/// The SwiftNIO shell and the relay threads both turn what they saw (an `IOError`, a connect
/// timeout, a raw errno) into one of these (``init(errno:stage:pickedPort:begunAt:)``), so the
/// rules are written once, in ``SessionMachine``.
public enum DialFailure: Sendable, Equatable {
    /// Nothing listens there (connection refused, host or network unreachable): definitive.
    case refused
    /// The connection was reset while connecting: definitive.
    case reset
    /// No answer in time (or none at all: a name that did not resolve). Ambiguous: a busy broker
    /// times out too, so it counts only if no dial to the server went through since `begunAt`
    /// (nil: the session machine fills in when its dial began).
    case timedOut(begunAt: MonotonicTime?)
    /// The server closed (or reset) after the client's bytes went out, before answering: never
    /// evidence against it (a broker closes so on a CONNECT it refuses); replayed to one more server.
    case closedSilently
    /// The connect completed after a failover moved traffic away: closed unused, no evidence, the
    /// attempt is given back.
    case superseded
    /// The front ran out of something of its own (a source port, a descriptor, buffers): says
    /// nothing about the server.
    case localResource(errno: Int32)
    /// The source port the front picked (`source_ports`) is taken by a socket outside its pool:
    /// the same server is tried again with another port.
    case portCollision

    /// Where a dial was when the system call failed.
    public enum Stage: Sendable {
        /// socket(), bind(), connect(), or its completion (SO_ERROR): nothing reached the server.
        case connecting
        /// After the client's bytes were sent.
        case sent
    }

    /// The failure a system error `code` means at `stage`; `pickedPort`: the front bound a port of
    /// its own choosing (`source_ports`), so an address in use is that port's collision.
    public init(errno code: Int32, stage: Stage, pickedPort: Bool, begunAt: MonotonicTime? = nil) {
        if stage == .sent {
            self = .closedSilently
            return
        }
        switch code {
        case EADDRINUSE, EADDRNOTAVAIL:
            self = pickedPort ? .portCollision : .localResource(errno: code)
        case EMFILE, ENFILE, ENOBUFS:
            self = .localResource(errno: code)
        case ETIMEDOUT:
            self = .timedOut(begunAt: begunAt)
        case ECONNRESET:
            self = .reset
        default:
            self = .refused
        }
    }

    /// Whether passive health hears of it: a refusal, a reset or a timeout says something about the
    /// server; the rest says nothing (its bytes were refused, traffic moved, the front is short).
    public var isEvidence: Bool {
        switch self {
        case .refused, .reset, .timedOut: true
        case .closedSilently, .superseded, .localResource, .portCollision: false
        }
    }

    /// Whether it proves nothing listens there (refused, reset) rather than that the server is slow.
    public var isDefinitive: Bool {
        switch self {
        case .refused, .reset: true
        default: false
        }
    }

    /// When the timed-out dial began, if known.
    public var begunAt: MonotonicTime? {
        if case .timedOut(let begunAt) = self { return begunAt }
        return nil
    }
}
