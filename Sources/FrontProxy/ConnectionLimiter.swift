import FrontCore
import Synchronization

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// A count of open client connections against a cap, shared by every listener and event loop.
///
/// Accept gates ask it before they accept and hear from it when a slot frees after it was full,
/// so a front at its cap leaves new connections in the kernel's backlog instead of accepting and
/// resetting them. Thread-safe.
public final class ConnectionLimiter: Sendable {
    private let cap: Atomic<Int>
    private let open = Atomic<Int>(0)
    private let waiters = NIOLockedValueBox<[@Sendable () -> Void]>([])
    /// The process-wide limiter's cap follows the descriptor limit; nil for a listener's.
    private let descriptors: DescriptorCap?
    private let descriptorCapChanged: (@Sendable (_ soft: UInt64, _ cap: Int) -> Void)?

    public init(capacity: Int) {
        self.cap = Atomic(capacity)
        self.descriptors = nil
        self.descriptorCapChanged = nil
    }

    /// A process-wide limiter whose cap is `descriptors`' and follows the soft RLIMIT_NOFILE, read
    /// again (at most every ``DescriptorCap/interval``) whenever an accept path asks for a slot;
    /// `changed` hears of each new cap.
    init(
        descriptors: DescriptorCap, configured: Int, reserve: UInt64, changed: @escaping @Sendable (UInt64, Int) -> Void
    ) {
        self.cap = Atomic(descriptors.update(configured: configured, reserve: reserve))
        self.descriptors = descriptors
        self.descriptorCapChanged = changed
    }

    /// New `max_connections` and reserve (a reload): the cap for them under the limit in force.
    func follow(configured: Int, reserve: UInt64) {
        guard let descriptors else { return }
        capacity = descriptors.update(configured: configured, reserve: reserve)
    }

    /// Reads the descriptor limit again when due; a changed limit changes the cap.
    private func followDescriptorLimit() {
        guard let descriptors, let changed = descriptors.changedCap(now: MonotonicTime.now().nanoseconds) else {
            return
        }
        capacity = changed.cap
        descriptorCapChanged?(changed.soft, changed.cap)
    }

    /// The cap; 0 means no cap. Changed by a reload.
    public var capacity: Int {
        get { cap.load(ordering: .relaxed) }
        set {
            let old = cap.exchange(newValue, ordering: .relaxed)
            // A raised (or removed) cap frees slots for gates that were waiting.
            if old > 0 && (newValue == 0 || newValue > old) { wakeWaiters() }
        }
    }

    /// Connections currently counted.
    public var current: Int { open.load(ordering: .relaxed) }

    /// Free slots (Int.max when there is no cap).
    public var available: Int {
        followDescriptorLimit()
        let capacity = self.capacity
        return capacity == 0 ? .max : max(0, capacity - current)
    }

    /// Counts one more connection; false (and nothing counted) when at the cap.
    public func tryAcquire() -> Bool {
        followDescriptorLimit()
        let capacity = self.capacity
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
        let capacity = self.capacity
        guard capacity > 0, before >= capacity else { return }
        wakeWaiters()
    }

    private func wakeWaiters() {
        for wake in waiters.withLockedValue({ $0 }) { wake() }
    }

    /// Registers a callback run (on any thread) whenever a slot frees after the cap was reached.
    public func onSlotFreed(_ wake: @escaping @Sendable () -> Void) {
        waiters.withLockedValue { $0.append(wake) }
    }
}
