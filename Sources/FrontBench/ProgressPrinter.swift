import Synchronization

import struct NIOConcurrencyHelpers.NIOLockedValueBox

#if canImport(Glibc)
    import Glibc
#endif

/// One progress observation.
public struct ProgressSample: Sendable, Equatable {
    public var phase: String
    public var elapsedSeconds: Double
    public var connected: Int
    public var failed: Int
    public var active: Int
    public var dropped: Int
    /// Messages received so far (the rate is computed against the previous sample).
    public var received: Int
    /// Seconds since the previous sample.
    public var intervalSeconds: Double
    /// Sessions the server side closed, and reconnects that succeeded (reconnecting mode).
    public var closed: Int
    /// Reconnects that reached a successful CONNACK.
    public var reconnects: Int

    public init(
        phase: String, elapsedSeconds: Double, connected: Int, failed: Int, active: Int, dropped: Int,
        received: Int, intervalSeconds: Double, closed: Int = 0, reconnects: Int = 0
    ) {
        self.phase = phase
        self.elapsedSeconds = elapsedSeconds
        self.connected = connected
        self.failed = failed
        self.active = active
        self.dropped = dropped
        self.received = received
        self.intervalSeconds = intervalSeconds
        self.closed = closed
        self.reconnects = reconnects
    }
}

/// Prints progress to standard error: one line rewritten in place on a terminal, plain lines otherwise.
///
/// Called from the driving thread only; the state sits behind a mutex so the type is Sendable.
public final class ProgressPrinter: Sendable {
    private let inPlace: Bool
    private let lastReceived = NIOLockedValueBox<Int>(0)
    private let wroteInPlace = Atomic<Bool>(false)

    /// `inPlace` nil: decide by whether standard error is a terminal.
    public init(inPlace: Bool? = nil) {
        self.inPlace = inPlace ?? (isatty(STDERR_FILENO) == 1)
    }

    /// Formats a sample; `previousReceived` gives the message rate.
    public static func line(_ sample: ProgressSample, previousReceived: Int) -> String {
        let rate = sample.intervalSeconds > 0 ? Double(sample.received - previousReceived) / sample.intervalSeconds : 0
        return "[\(BenchReport.fixed(sample.elapsedSeconds, 1))s] \(sample.phase) connected=\(sample.connected)"
            + " failed=\(sample.failed) active=\(sample.active) dropped=\(sample.dropped)"
            + " msgs_per_s=\(BenchReport.fixed(rate, 0))"
            + (sample.closed > 0 || sample.reconnects > 0
                ? " closed=\(sample.closed) reconnects=\(sample.reconnects)" : "")
    }

    /// Prints `sample`.
    public func update(_ sample: ProgressSample) {
        let previous = lastReceived.withLockedValue { last in
            defer { last = sample.received }
            return last
        }
        let text = Self.line(sample, previousReceived: previous)
        if inPlace {
            BenchOutput.standardError("\r\u{1B}[K" + text)
            wroteInPlace.store(true, ordering: .relaxed)
        } else {
            BenchOutput.standardError(text + "\n")
        }
    }

    /// Ends an in-place line so what follows starts on its own line.
    public func finish() {
        if wroteInPlace.exchange(false, ordering: .relaxed) {
            BenchOutput.standardError("\n")
        }
    }
}
