#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A point on the monotonic clock in nanoseconds. Decisions in FrontCore take it as an argument,
/// so tests drive them with a hand-made clock and the data path reads the real one once per event.
public struct MonotonicTime: Sendable, Hashable, Comparable {
    /// Nanoseconds since an arbitrary, fixed origin (boot on Linux).
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// The current monotonic time (CLOCK_MONOTONIC); safe on any thread.
    public static func now() -> MonotonicTime {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return MonotonicTime(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    public static func < (lhs: MonotonicTime, rhs: MonotonicTime) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// This time moved forward by `duration` (saturating, never wraps).
    public func adding(_ duration: Duration) -> MonotonicTime {
        let (sum, overflow) = nanoseconds.addingReportingOverflow(duration.nanosecondsClamped)
        return MonotonicTime(nanoseconds: overflow ? .max : sum)
    }

    /// This time moved back by `duration` (saturating at 0; a negative duration counts as 0).
    public func subtracting(_ duration: Duration) -> MonotonicTime {
        let amount = duration.nanosecondsClamped
        return MonotonicTime(nanoseconds: nanoseconds >= amount ? nanoseconds - amount : 0)
    }

    /// The non-negative time from `earlier` to `self`.
    public func since(_ earlier: MonotonicTime) -> Duration {
        nanoseconds >= earlier.nanoseconds ? .nanoseconds(Int64(clamping: nanoseconds - earlier.nanoseconds)) : .zero
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to `0...UInt64.max` (negative durations become 0).
    public var nanosecondsClamped: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, overflow2) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return overflow2 ? .max : sum
    }

    /// The duration as fractional seconds, for logs and ratios.
    public var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
