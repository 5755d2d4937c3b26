/// The outcome of one run, printed as the last line `RESULT key=value ...`. Plain values, any thread.
public struct BenchReport: Sendable, Equatable {
    public var connections: Int
    public var started: Int
    public var connected: Int
    public var failed: Int
    public var failedConnect: Int
    public var failedClosed: Int
    public var failedRefused: Int
    public var failedTimeout: Int
    /// Sessions the peer closed during the hold phase.
    public var droppedInHold: Int
    /// Sessions the peer closed at any time before the bench did.
    public var dropped: Int
    /// From the first connect start to the last successful CONNACK.
    public var connectSeconds: Double
    public var connAckP50Micros: UInt64
    public var connAckP99Micros: UInt64
    public var connAckMaxMicros: UInt64
    /// The measured part of the hold phase (after warm-up).
    public var holdSeconds: Double
    public var published: Int
    public var received: Int
    public var roundTripP50Micros: UInt64
    public var roundTripP99Micros: UInt64
    public var roundTripMaxMicros: UInt64
    /// Messages sent and received over the whole run, warm-up included.
    public var publishedTotal: Int
    public var receivedTotal: Int
    public var pings: Int
    public var pongs: Int
    public var elapsedSeconds: Double
    public var connectPhaseSeconds: Double
    /// The `--duration` bound ended the run early.
    public var timedOut: Bool
    /// Server closes and reconnects (all zero without `--reconnect` and server closes).
    public var reconnect = ReconnectReport()

    /// Successful CONNACKs per second over the connect phase.
    public var connAcksPerSecond: Double { connectSeconds > 0 ? Double(connected) / connectSeconds : 0 }

    /// Messages received per second over the measured hold phase.
    public var messagesPerSecond: Double { holdSeconds > 0 ? Double(received) / holdSeconds : 0 }

    /// The `RESULT` line: stable keys, times in milliseconds with 3 decimals.
    public var resultLine: String {
        let fields: [(String, String)] =
            [
                ("connections", "\(connections)"), ("connected", "\(connected)"), ("failed", "\(failed)"),
                ("failed_connect", "\(failedConnect)"), ("failed_closed", "\(failedClosed)"),
                ("failed_refused", "\(failedRefused)"), ("failed_timeout", "\(failedTimeout)"),
                ("dropped", "\(dropped)"), ("dropped_in_hold", "\(droppedInHold)"),
                ("connect_s", Self.fixed(connectSeconds, 3)), ("connack_per_s", Self.fixed(connAcksPerSecond, 1)),
                ("connack_p50_ms", Self.millis(connAckP50Micros)), ("connack_p99_ms", Self.millis(connAckP99Micros)),
                ("connack_max_ms", Self.millis(connAckMaxMicros)), ("hold_s", Self.fixed(holdSeconds, 3)),
                ("msgs_sent", "\(published)"), ("msgs_received", "\(received)"),
                ("msgs_per_s", Self.fixed(messagesPerSecond, 1)), ("rtt_p50_ms", Self.millis(roundTripP50Micros)),
                ("rtt_p99_ms", Self.millis(roundTripP99Micros)), ("rtt_max_ms", Self.millis(roundTripMaxMicros)),
                ("msgs_sent_total", "\(publishedTotal)"), ("msgs_received_total", "\(receivedTotal)"),
                ("pings", "\(pings)"), ("pongs", "\(pongs)"),
            ]
            + reconnect.fields + [("elapsed_s", Self.fixed(elapsedSeconds, 3)), ("timed_out", timedOut ? "1" : "0")]
        return "RESULT " + fields.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    /// `value` with `digits` decimals, no locale.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (value * scale).rounded()
        guard scaled.isFinite, abs(scaled) < 9e15 else { return "0" }
        let integer = Int64(scaled)
        let sign = integer < 0 ? "-" : ""
        let magnitude = integer.magnitude
        let whole = magnitude / UInt64(scale)
        guard digits > 0 else { return "\(sign)\(whole)" }
        let fraction = String(magnitude % UInt64(scale))
        return "\(sign)\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// Microseconds as milliseconds with 3 decimals.
    static func millis(_ micros: UInt64) -> String { fixed(Double(micros) / 1_000, 3) }
}
