import Synchronization

/// A count of open client connections against a cap, shared by every listener and event loop.
///
/// Accept gates ask it before they accept and hear from it when a slot frees after it was full,
/// so a front at its cap leaves new connections in the kernel's backlog instead of accepting and
/// resetting them. Thread-safe.
public final class ConnectionLimiter: Sendable {
    /// 0 means no cap.
    public let capacity: Int
    private let open = Atomic<Int>(0)
    private let waiters = Mutex<[@Sendable () -> Void]>([])

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// Connections currently counted.
    public var current: Int { open.load(ordering: .relaxed) }

    /// Free slots (Int.max when there is no cap).
    public var available: Int {
        capacity == 0 ? .max : max(0, capacity - current)
    }

    /// Counts one more connection; false (and nothing counted) when at the cap.
    public func tryAcquire() -> Bool {
        if capacity == 0 {
            open.wrappingAdd(1, ordering: .relaxed)
            return true
        }
        var value = open.load(ordering: .relaxed)
        while value < capacity {
            let (exchanged, original) = open.weakCompareExchange(
                expected: value, desired: value + 1, ordering: .relaxed)
            if exchanged { return true }
            value = original
        }
        return false
    }

    /// A connection ended: frees its slot and wakes whoever waited for one.
    public func release() {
        let before = open.wrappingSubtract(1, ordering: .relaxed).oldValue
        guard capacity > 0, before >= capacity else { return }
        for wake in waiters.withLock({ $0 }) { wake() }
    }

    /// Registers a callback run (on any thread) whenever a slot frees after the cap was reached.
    public func onSlotFreed(_ wake: @escaping @Sendable () -> Void) {
        waiters.withLock { $0.append(wake) }
    }
}
