/// How many moves a paced job may begin at each of its ticks: `rate` per second on average, as
/// smoothly as its ticks allow. Moves owed by the rate are begun from a token bucket that fills at
/// ``catchUp`` × `rate` and holds ``saved`` seconds' worth, so a tick that comes late is made up a
/// little faster afterwards, never in a burst: any 100 ms sees at most 1.2× the rate on schedule
/// and 1.3× while making up. Times are seconds on any monotonic clock. A value type; one job's own.
public struct MovePace: Sendable, Equatable {
    /// How much faster than its rate a job goes while it makes up for late ticks.
    public static let catchUp = 1.1
    /// The most seconds' worth of moves a tick may begin at once.
    public static let saved = 0.02
    /// At most this many seconds of moves are owed: what stays unmovable longer is not made up.
    public static let longestDebt = 0.5

    /// Moves due by the rate and not yet begun.
    private(set) var owed = 0.0
    /// Moves the bucket allows now.
    private(set) var tokens = 0.0
    /// When the last budget was worked out (nil: never).
    private var last: Double?

    public init() {}

    /// The moves that may begin at `now` at `rate` per second (0: every one at once).
    public mutating func budget(rate: Double, now: Double) -> Int {
        guard rate > 0 else { return Int.max }
        let elapsed = last.map { max(now - $0, 0) } ?? 0
        last = now
        owed = min(owed + rate * elapsed, max(1, rate * Self.longestDebt))
        tokens = min(tokens + Self.catchUp * rate * elapsed, max(1, rate * Self.saved))
        return Int(min(owed, tokens).rounded(.down))
    }

    /// `count` moves began (at most the last ``budget(rate:now:)``).
    public mutating func began(_ count: Int) {
        owed = max(0, owed - Double(count))
        tokens = max(0, tokens - Double(count))
    }
}
