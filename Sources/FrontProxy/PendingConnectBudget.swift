import Synchronization

/// `limits.max_pending_connect_bytes`: the bytes all of one listener's connections hold while their
/// CONNECT is still arriving, against a cap. A connection whose next bytes would pass the cap is
/// closed (reason `limit`) instead of buffering them, so slow or never-finishing CONNECTs on every
/// connection slot cannot add up to `max_connections` × `max_connect_size`. Thread-safe: event loops
/// and relay threads count into one budget; kept across reloads (a reload changes only the cap).
final class PendingConnectBudget: Sendable {
    private let cap: Atomic<Int>
    private let held = Atomic<Int>(0)

    init(capacity: Int) {
        self.cap = Atomic(capacity)
    }

    /// The cap in bytes; a reload changes it (bytes already held stay counted).
    var capacity: Int {
        get { cap.load(ordering: .relaxed) }
        set { cap.store(newValue, ordering: .relaxed) }
    }

    /// Bytes held now.
    var current: Int { held.load(ordering: .relaxed) }

    /// Counts `count` more bytes; false, with nothing counted, when that would pass the cap.
    func tryHold(_ count: Int) -> Bool {
        guard count > 0 else { return true }
        let capacity = self.capacity
        var value = held.load(ordering: .relaxed)
        while value <= capacity - count {
            let (done, seen) = held.weakCompareExchange(expected: value, desired: value + count, ordering: .relaxed)
            if done { return true }
            value = seen
        }
        return false
    }

    /// Gives back `count` bytes counted by ``tryHold(_:)`` (the CONNECT arrived whole, or the
    /// connection ended).
    func release(_ count: Int) {
        guard count > 0 else { return }
        held.wrappingSubtract(count, ordering: .relaxed)
    }
}
