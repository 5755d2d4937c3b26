import CoreMetrics
import NIOCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What a session handed to a relay thread and its handler (on the handler's event loop) share.
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

    /// A session that connects from the relay thread (``RelayEngine/adoptDialing(client:dial:link:tracker:)``):
    /// the server's socket finished connecting. Read by the handler's connect deadline.
    let connected = Atomic<Bool>(false)
    /// The server sent its first byte: nothing is replayed any more.
    let answered = Atomic<Bool>(false)
    /// What a dialing session tells its handler; nil when it has nothing to report, and let go
    /// once the server answered (and its CONNACK was read). Set before the hand-over, then relay
    /// thread only.
    var dialHooks: RelayDialHooks?

    init(
        serverBytesAreActivity: Bool, bytesIn: Counter, bytesOut: Counter, dialHooks: RelayDialHooks? = nil,
        ended: @escaping @Sendable (CloseReason?) -> Void
    ) {
        self.serverBytesAreActivity = serverBytesAreActivity
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.dialHooks = dialHooks
        self.ended = ended
    }
}
