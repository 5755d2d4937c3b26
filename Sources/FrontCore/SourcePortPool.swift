import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// The source ports one source IP uses toward one server when the front picks ports itself
/// (`source_ports`), instead of the kernel's `connect()` search, which walks every taken port of the
/// ephemeral range on each connect once a source IP holds most of it toward a destination.
///
/// A bitmap of the range and a cursor: `acquire` takes the next free port after the cursor (a word
/// scan, O(1) amortised), `release` frees it. Other processes may hold ports of the same range
/// (fronts sharing a listener with `reuse_port`, anything else on the host); the dial then fails
/// with EADDRINUSE or EADDRNOTAVAIL and the caller calls `collided`, which keeps that port out of
/// use for `quarantine` and moves the cursor to a random place so the next try lands outside the
/// other process's run of ports. Thread-safe.
public final class SourcePortPool: Sendable {
    public let lower: Int
    public let upper: Int
    private let state: NIOLockedValueBox<State>

    /// How long a port found taken by someone else stays out of use.
    public static let quarantine = Duration.seconds(30)

    struct State {
        var words: [UInt64]
        var cursor: Int
        var inUse = 0
        /// Ports taken outside the pool, oldest first, with when they may be tried again.
        var foreign: [(port: Int, until: ContinuousClock.Instant)] = []
        var foreignHead = 0
    }

    /// A pool of `lower...upper`, all free, with the cursor at a random place (two processes do not
    /// start on the same ports).
    public init(lower: Int, upper: Int) {
        self.lower = lower
        self.upper = upper
        let count = upper - lower + 1
        var words = [UInt64](repeating: 0, count: (count + 63) / 64)
        // Bits past the range are marked taken so the scan never returns them.
        let spare = words.count * 64 - count
        if spare > 0 { words[words.count - 1] = ~UInt64(0) << UInt64(64 - spare) }
        self.state = NIOLockedValueBox(State(words: words, cursor: Int.random(in: 0..<count)))
    }

    public var count: Int { upper - lower + 1 }

    /// Ports taken now.
    public var inUse: Int { state.withLockedValue { $0.inUse } }

    /// Takes the first free port at or after the cursor (wrapping); nil when every port is taken.
    public func acquire() -> Int? {
        state.withLockedValue { state in
            if state.foreignHead < state.foreign.count { releaseExpiredForeign(&state) }
            let words = state.words.count
            var word = state.cursor / 64
            // The cursor's own word, ignoring bits below the cursor, then whole words around.
            let below = UInt64(state.cursor % 64)
            let firstMask: UInt64 = below == 0 ? 0 : (UInt64(1) << below) - 1
            var free = ~(state.words[word] | firstMask)
            var scanned = 0
            while free == 0 {
                scanned += 1
                if scanned > words { break }
                word = (word + 1) % words
                free = ~state.words[word]
            }
            if free == 0 { return nil }
            let bit = free.trailingZeroBitCount
            state.words[word] |= UInt64(1) << UInt64(bit)
            state.inUse += 1
            let index = word * 64 + bit
            state.cursor = (index + 1) % count
            return lower + index
        }
    }

    /// Gives `port` back; ports outside the range or not taken are ignored.
    public func release(_ port: Int) {
        guard port >= lower, port <= upper else { return }
        let index = port - lower
        state.withLockedValue { state in
            let mask = UInt64(1) << UInt64(index % 64)
            guard state.words[index / 64] & mask != 0 else { return }
            state.words[index / 64] &= ~mask
            state.inUse -= 1
        }
    }

    /// `port` (taken from this pool) was found taken by someone else: it stays marked for
    /// `quarantine` but no longer counts as in use, and the cursor jumps to a random place.
    public func collided(_ port: Int) {
        guard port >= lower, port <= upper else { return }
        let count = self.count
        let until = ContinuousClock.now + Self.quarantine
        state.withLockedValue { state in
            state.inUse -= 1
            state.foreign.append((port, until))
            state.cursor = Int.random(in: 0..<count)
        }
    }

    /// Frees the quarantined ports whose time is up.
    private func releaseExpiredForeign(_ state: inout State) {
        let now = ContinuousClock.now
        while state.foreignHead < state.foreign.count, state.foreign[state.foreignHead].until <= now {
            let index = state.foreign[state.foreignHead].port - lower
            state.words[index / 64] &= ~(UInt64(1) << UInt64(index % 64))
            state.foreignHead += 1
        }
        if state.foreignHead == state.foreign.count {
            state.foreign.removeAll(keepingCapacity: false)
            state.foreignHead = 0
        } else if state.foreignHead > 64, state.foreignHead * 2 > state.foreign.count {
            state.foreign.removeFirst(state.foreignHead)
            state.foreignHead = 0
        }
    }

    /// Test support: whether `port` is taken in this pool.
    public func isTaken(_ port: Int) -> Bool {
        guard port >= lower, port <= upper else { return false }
        let index = port - lower
        return state.withLockedValue { $0.words[index / 64] & (UInt64(1) << UInt64(index % 64)) != 0 }
    }
}
