import CoreMetrics
import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What other threads may touch of a relay thread's session: its byte counts and last activity
/// (read by `GET /sessions` and the session's deadlines), the thread that owns it, and its end.
///
/// `@unchecked Sendable`: the atomics and counters are thread-safe; `slot` is read and written on
/// the relay thread alone.
final class RelayLink: @unchecked Sendable {
    /// Bytes read from the client, and from the server, since the session came to a relay thread.
    let clientBytes = Atomic<UInt64>(0)
    let serverBytes = Atomic<UInt64>(0)
    /// CLOCK_MONOTONIC nanoseconds of the last read that counts as activity for the idle timeout;
    /// 0 until the first one on the relay thread.
    let lastActivity = Atomic<UInt64>(0)
    /// `tcp`: bytes either way are activity; MQTT: only the client's (its keepalive).
    let serverBytesAreActivity: Bool
    let bytesIn: Counter
    let bytesOut: Counter
    /// Called once, on the relay thread, when the session is gone: why, or nil when it was closed
    /// on request (``RelayEngine/close(_:)``).
    let ended: @Sendable (CloseReason?) -> Void
    /// Where the session is in its engine's table; relay thread only. -1: in none (not yet, or
    /// ended); ``inTransit``: given up by one relay thread and queued to another.
    var slot = -1
    static let inTransit = -2
    /// The index of the relay thread that holds the session (``RelayEngine/index``), or that it is
    /// on its way to (`relay_spread`): the thread giving it up queues it there first and then
    /// points the owner there; the receiving thread points it at itself when it takes it. So a
    /// thread that sees an owner other than itself can pass a request on, and it will be queued
    /// behind the session. A thread reads ``slot`` only while it is the owner.
    let owner = Atomic<Int>(0)

    /// The server sent its first byte: nothing is replayed any more.
    let answered = Atomic<Bool>(false)

    init(
        serverBytesAreActivity: Bool, bytesIn: Counter, bytesOut: Counter,
        ended: @escaping @Sendable (CloseReason?) -> Void
    ) {
        self.serverBytesAreActivity = serverBytesAreActivity
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.ended = ended
    }
}
