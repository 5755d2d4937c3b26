import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// At most `limit` holders at once; one more is turned away at once rather than queued (the admin
/// plane answers `GET /sessions` beyond it with 503). Thread-safe.
final class ConcurrencyGate: Sendable {
    /// How many may hold the gate at once.
    let limit: Int
    private let holders = NIOLockedValueBox(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a place if one is free; a caller that got true must call ``leave()`` once.
    func tryEnter() -> Bool {
        holders.withLockedValue { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    /// Gives back a place taken by ``tryEnter()``.
    func leave() {
        holders.withLockedValue { $0 = max(0, $0 - 1) }
    }

    /// Places taken now.
    var inUse: Int { holders.withLockedValue { $0 } }
}
