/// The busiest stretch of a series of events: the most events inside any window of a given length.
///
/// Used for the reconnect storm: CONNACK times after the first server close, window 100 ms. Pure; any
/// thread.
public enum WindowPeak {
    /// The largest number of `times` (ns, any order) at or after `origin` that fit in one half-open window
    /// `[t, t + windowNanos)`, over every start `t`; 0 when none is at or after `origin` or the window is empty.
    public static func count(of times: [UInt64], from origin: UInt64, windowNanos: UInt64) -> Int {
        let sorted = times.filter { $0 >= origin }.sorted()
        guard windowNanos > 0 else { return 0 }
        var best = 0
        var first = 0
        for (last, time) in sorted.enumerated() {
            while time - sorted[first] >= windowNanos { first += 1 }
            best = max(best, last - first + 1)
        }
        return best
    }
}
