import Synchronization

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// What the reconnecting mode counts: server closes, reconnects, the storm's timeline and the reasons
/// of server DISCONNECTs.
///
/// Counters are atomics; the CONNACK timeline sits behind a mutex (one append per CONNACK after the
/// first close). Callable from any thread.
public final class ReconnectStats: Sendable {
    /// Connected sessions the server side ended (TCP close, or an MQTT DISCONNECT followed by the close).
    public let closed = Atomic<Int>(0)
    /// Reconnect attempts that reached a successful CONNACK.
    public let reconnects = Atomic<Int>(0)
    /// Reconnect attempts that failed: TCP connect error, close or timeout before CONNACK, CONNACK refusal.
    public let failed = Atomic<Int>(0)
    /// Reconnect attempts started whose outcome is not known yet.
    public let pending = Atomic<Int>(0)
    /// Server DISCONNECTs with reason 0x9C (Use another server), 0x8B (Server shutting down), or another.
    public let disconnect9C = Atomic<Int>(0)
    /// ... with reason 0x8B.
    public let disconnect8B = Atomic<Int>(0)
    /// ... with any other reason (a 3.1.1 server never sends DISCONNECT; counted here if one does).
    public let disconnectOther = Atomic<Int>(0)
    /// Monotonic time of the first server close (ns, 0 = none yet).
    public let firstCloseNanos = Atomic<UInt64>(0)
    /// Monotonic time of the latest CONNACK that brought the open sessions back to the connected count.
    public let settledNanos = Atomic<UInt64>(0)
    /// Most CONNACK times the timeline keeps (a bound on memory, far above any storm's reconnects).
    static let timelineLimit = 2_000_000

    private let connAckTimes = NIOLockedValueBox<[UInt64]>([])

    /// Empty counters.
    public init() {}

    /// Notes a server close of a connected session at `nanos`.
    func recordClose(at nanos: UInt64) {
        closed.add(1, ordering: .relaxed)
        _ = firstCloseNanos.compareExchange(expected: 0, desired: nanos, ordering: .relaxed)
    }

    /// Notes a server DISCONNECT carrying `reason` (0x00 when the packet has none).
    func recordDisconnect(reason: UInt8) {
        switch reason {
        case 0x9C: disconnect9C.add(1, ordering: .relaxed)
        case 0x8B: disconnect8B.add(1, ordering: .relaxed)
        default: disconnectOther.add(1, ordering: .relaxed)
        }
    }

    /// Notes a successful CONNACK at `nanos` after the first close (any connection): the storm's timeline.
    /// `open` sessions are connected now out of `wanted`; reaching `wanted` marks the settle time.
    func recordConnAck(at nanos: UInt64, open: Int, wanted: Int) {
        guard firstCloseNanos.load(ordering: .relaxed) != 0 else { return }
        connAckTimes.withLockedValue { times in
            if times.count < Self.timelineLimit { times.append(nanos) }
        }
        if open >= wanted { _ = settledNanos.max(nanos, ordering: .relaxed) }
    }

    /// A copy of the CONNACK times recorded after the first close (ns, arrival order).
    public func connAckTimeline() -> [UInt64] { connAckTimes.withLockedValue { $0 } }
}
