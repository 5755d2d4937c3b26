/// How long a closed bench client waits before it reconnects: exponential back-off with full jitter.
///
/// The ceiling starts at ``minimumSeconds`` for the first reconnect after a close and doubles with each
/// consecutive failed attempt, up to ``maximumSeconds``; the delay is drawn uniformly from zero to the
/// ceiling ("full jitter"), so a crowd closed at once spreads its reconnects over the whole ceiling.
/// Pure; any thread.
public struct ReconnectBackoff: Sendable, Equatable {
    /// Ceiling of the first reconnect's delay (s).
    public let minimumSeconds: Double
    /// The ceiling never grows past this (s).
    public let maximumSeconds: Double

    /// Checks the bounds: both finite, `0 < minimum <= maximum`.
    public init(minimumSeconds: Double, maximumSeconds: Double) throws(BenchOptionError) {
        guard minimumSeconds.isFinite, minimumSeconds > 0 else {
            throw .invalid(value: "\(minimumSeconds)s", expected: "a reconnect minimum above 0")
        }
        guard maximumSeconds.isFinite, maximumSeconds >= minimumSeconds else {
            throw .invalid(value: "\(maximumSeconds)s", expected: "a reconnect maximum at least the minimum")
        }
        self.minimumSeconds = minimumSeconds
        self.maximumSeconds = maximumSeconds
    }

    /// The defaults: 100 ms, doubling up to 5 s.
    public static let standard = ReconnectBackoff(checkedMinimum: 0.1, maximum: 5)

    private init(checkedMinimum: Double, maximum: Double) {
        minimumSeconds = checkedMinimum
        maximumSeconds = maximum
    }

    /// The largest delay after `failures` consecutive failed attempts (0 = the first reconnect after a close).
    public func ceilingSeconds(failures: Int) -> Double {
        var ceiling = minimumSeconds
        var doublings = max(0, failures)
        while doublings > 0, ceiling < maximumSeconds {
            ceiling *= 2
            doublings -= 1
        }
        return min(ceiling, maximumSeconds)
    }

    /// A delay in `0...ceilingSeconds(failures:)`, drawn from `generator`.
    public func delaySeconds(failures: Int, using generator: inout some RandomNumberGenerator) -> Double {
        Double.random(in: 0...ceilingSeconds(failures: failures), using: &generator)
    }

    /// A delay in `0...ceilingSeconds(failures:)` from the system generator.
    public func delaySeconds(failures: Int) -> Double {
        var generator = SystemRandomNumberGenerator()
        return delaySeconds(failures: failures, using: &generator)
    }
}
