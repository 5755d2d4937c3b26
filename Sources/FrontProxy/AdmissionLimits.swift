import FrontCore
import Synchronization

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// `limits.per_source_ip`: concurrent sessions per client IP on one listener. Thread-safe.
final class SourceIPLimiter: Sendable {
    private let state: NIOLockedValueBox<(cap: Int, counts: [String: Int])>

    init(cap: Int) {
        state = NIOLockedValueBox((cap, [:]))
    }

    /// The cap; a reload changes it (open sessions stay counted).
    var cap: Int {
        get { state.withLockedValue { $0.cap } }
        set { state.withLockedValue { $0.cap = newValue } }
    }

    /// Counts one more session from `ip`; false when it is at the cap.
    func tryAcquire(_ ip: String) -> Bool {
        state.withLockedValue { state in
            let count = state.counts[ip, default: 0]
            guard state.cap == 0 || count < state.cap else { return false }
            state.counts[ip] = count + 1
            return true
        }
    }

    /// A session from `ip` ended.
    func release(_ ip: String) {
        state.withLockedValue { state in
            guard let count = state.counts[ip] else { return }
            state.counts[ip] = count > 1 ? count - 1 : nil
        }
    }
}

/// `limits.accept_rate`: new sessions per second for one listener, bursts up to one second's worth;
/// sessions over it wait in a bounded queue (on their own event loops) instead of being dropped.
/// Thread-safe.
final class AcceptRateLimiter: Sendable {
    let rate: Int
    /// Sessions allowed to wait at once: what `connect_timeout` could ever admit, at least 16.
    let queueCapacity: Int
    private let bucket: NIOLockedValueBox<TokenBucket>
    private let queued = Atomic<Int>(0)

    /// The queue's bound whatever the rate and timeout (a queued session holds a connection anyway).
    static let maximumQueue = Int(Int32.max)

    init(rate: Int, connectTimeout: Duration) {
        self.rate = rate
        // As a Double first: any `accept_rate` and `connect_timeout` the config accepts, multiplied,
        // may not fit an Int.
        let admissible = Double(rate) * connectTimeout.secondsDouble
        self.queueCapacity = admissible >= Double(Self.maximumQueue) ? Self.maximumQueue : max(16, Int(admissible))
        self.bucket = NIOLockedValueBox(TokenBucket(rate: rate, now: .now()))
    }

    /// Takes a token now if there is one.
    func tryTake() -> Bool {
        bucket.withLockedValue { $0.take(at: .now()) }
    }

    /// Reserves a place in the queue; false when it is full.
    func tryQueue() -> Bool {
        var value = queued.load(ordering: .relaxed)
        while value < queueCapacity {
            let (done, seen) = queued.weakCompareExchange(expected: value, desired: value + 1, ordering: .relaxed)
            if done { return true }
            value = seen
        }
        return false
    }

    /// A queued session left the queue (admitted, timed out or gone).
    func leftQueue() {
        queued.wrappingSubtract(1, ordering: .relaxed)
    }
}
