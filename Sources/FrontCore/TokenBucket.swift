/// Admission at a steady rate with bursts: `rate` tokens per second, holding at most `burst`.
/// A value type with an injected time, so tests drive it with a hand clock.
public struct TokenBucket: Sendable, Equatable {
    public let rate: Double
    public let burst: Double
    public private(set) var tokens: Double
    public private(set) var updated: MonotonicTime

    /// A full bucket at `now`.
    public init(rate: Int, burst: Int? = nil, now: MonotonicTime) {
        self.rate = Double(max(rate, 1))
        self.burst = Double(max(burst ?? rate, 1))
        self.tokens = self.burst
        self.updated = now
    }

    /// Takes one token if there is one at `now`.
    public mutating func take(at now: MonotonicTime) -> Bool {
        refill(at: now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    private mutating func refill(at now: MonotonicTime) {
        guard now > updated else { return }
        tokens = min(burst, tokens + now.since(updated).secondsDouble * rate)
        updated = now
    }
}
