import Histogram
import Synchronization

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// Counters and latency histograms of one bench run, shared by every connection handler and the
/// progress reporter.
///
/// Counters are atomics; each histogram sits behind its own mutex (recorded once per CONNACK or per
/// message, far below the contention that would matter next to a syscall). Callable from any thread.
public final class BenchStats: Sendable {
    /// Connections whose connect was started.
    public let started = Atomic<Int>(0)
    /// Connections that received CONNACK with code 0.
    public let connected = Atomic<Int>(0)
    /// Connections that failed before a successful CONNACK (any reason below).
    public let failed = Atomic<Int>(0)
    /// ... of which the TCP connect failed or timed out.
    public let failedConnect = Atomic<Int>(0)
    /// ... of which the peer closed before CONNACK.
    public let failedClosed = Atomic<Int>(0)
    /// ... of which CONNACK carried a non-zero code.
    public let failedRefused = Atomic<Int>(0)
    /// ... of which no CONNACK came within the CONNACK timeout.
    public let failedTimeout = Atomic<Int>(0)
    /// Connected sessions that the peer closed while the bench still wanted them.
    public let dropped = Atomic<Int>(0)
    /// Sessions now open (connected and not yet closed).
    public let active = Atomic<Int>(0)
    /// Connects started whose outcome (CONNACK or failure) is not known yet.
    public let pending = Atomic<Int>(0)
    /// Sessions that finished on the bench's own terms (churn mode: DISCONNECT after CONNACK).
    public let completed = Atomic<Int>(0)
    /// SUBACKs received.
    public let subscribed = Atomic<Int>(0)
    /// PUBLISH packets sent.
    public let published = Atomic<Int>(0)
    /// PUBLISH packets received by subscribers.
    public let received = Atomic<Int>(0)
    /// PINGREQs sent and PINGRESPs received.
    public let pings = Atomic<Int>(0)
    /// PINGRESPs received.
    public let pongs = Atomic<Int>(0)
    /// Monotonic time of the first connect start and of the latest successful CONNACK (ns, 0 = none).
    public let firstStartNanos = Atomic<UInt64>(0)
    /// Monotonic time of the latest successful CONNACK.
    public let lastConnAckNanos = Atomic<UInt64>(0)
    /// The reconnecting mode's counters: server closes, reconnects, the storm's CONNACK timeline.
    public let reconnect = ReconnectStats()

    private let connAckMicros = NIOLockedValueBox(BenchStats.makeHistogram())
    private let roundTripMicros = NIOLockedValueBox(BenchStats.makeHistogram())

    /// Empty counters.
    public init() {}

    /// Notes that a connect started at `nanos`.
    public func recordStart(at nanos: UInt64) {
        started.add(1, ordering: .relaxed)
        pending.add(1, ordering: .relaxed)
        _ = firstStartNanos.compareExchange(expected: 0, desired: nanos, ordering: .relaxed)
    }

    /// Records a successful CONNACK `latencyNanos` after its connect started.
    public func recordConnAck(latencyNanos: UInt64, at nanos: UInt64) {
        let wanted = connected.add(1, ordering: .relaxed).newValue
        let open = active.add(1, ordering: .relaxed).newValue
        pending.subtract(1, ordering: .relaxed)
        _ = lastConnAckNanos.max(nanos, ordering: .relaxed)
        connAckMicros.withLockedValue { _ = $0.record(max(1, latencyNanos / 1_000)) }
        reconnect.recordConnAck(at: nanos, open: open, wanted: wanted)
    }

    /// Notes that a reconnect started.
    public func recordReconnectStart() {
        reconnect.pending.add(1, ordering: .relaxed)
    }

    /// Records a reconnect's successful CONNACK at `nanos`.
    public func recordReconnectConnAck(at nanos: UInt64) {
        reconnect.reconnects.add(1, ordering: .relaxed)
        reconnect.pending.subtract(1, ordering: .relaxed)
        let open = active.add(1, ordering: .relaxed).newValue
        reconnect.recordConnAck(at: nanos, open: open, wanted: connected.load(ordering: .relaxed))
    }

    /// Records a reconnect that never got a successful CONNACK.
    public func recordReconnectFailure() {
        reconnect.failed.add(1, ordering: .relaxed)
        reconnect.pending.subtract(1, ordering: .relaxed)
    }

    /// Records a connected session that the server side closed at `nanos`.
    public func recordServerClose(at nanos: UInt64) {
        dropped.add(1, ordering: .relaxed)
        active.subtract(1, ordering: .relaxed)
        reconnect.recordClose(at: nanos)
    }

    /// Records a connection that never got a successful CONNACK; `reason` picks the detail counter.
    public func recordFailure(_ reason: FailureReason) {
        failed.add(1, ordering: .relaxed)
        pending.subtract(1, ordering: .relaxed)
        switch reason {
        case .connect: failedConnect.add(1, ordering: .relaxed)
        case .closed: failedClosed.add(1, ordering: .relaxed)
        case .refused: failedRefused.add(1, ordering: .relaxed)
        case .timeout: failedTimeout.add(1, ordering: .relaxed)
        }
    }

    /// Records one delivered message's round trip.
    public func recordRoundTrip(nanos: UInt64) {
        received.add(1, ordering: .relaxed)
        roundTripMicros.withLockedValue { _ = $0.record(max(1, nanos / 1_000)) }
    }

    /// Forgets the round trips recorded so far (end of warm-up).
    public func resetRoundTrips() {
        roundTripMicros.withLockedValue { $0.reset() }
    }

    /// A copy of the CONNACK latency histogram (µs).
    public func connAckHistogram() -> Histogram<UInt64> { connAckMicros.withLockedValue { $0 } }

    /// A copy of the round-trip histogram (µs).
    public func roundTripHistogram() -> Histogram<UInt64> { roundTripMicros.withLockedValue { $0 } }

    /// Why a connection did not reach a successful CONNACK.
    public enum FailureReason: Sendable {
        /// TCP connect failed.
        case connect
        /// The peer closed first.
        case closed
        /// CONNACK with a non-zero code.
        case refused
        /// No CONNACK in time.
        case timeout
    }

    /// 1 µs to 1 h at 3 significant digits.
    private static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(
            lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }
}
