import FrontCore

/// Something with a deadline kept in a ``TimerWheel``. The wheel stores where the entry sits so
/// that removal is O(1); only the wheel writes those two fields.
protocol WheelTimed: AnyObject {
    /// Slot index in the wheel, -1 when not scheduled. Owned by the wheel.
    var wheelSlot: Int32 { get set }
    /// Position inside the slot. Owned by the wheel.
    var wheelPosition: Int32 { get set }
    /// Called when the tick the entry was filed under comes round. Returns the tick of a later
    /// deadline to be filed again (activity moved it), or nil when the entry has expired and is done.
    func wheelTickReached(_ tick: Int64) -> Int64?
}

/// A hashed timing wheel: every idle and connect deadline of one event loop in one structure,
/// advanced by a single repeated task, instead of one scheduled task per session.
///
/// Deadlines are lazy: a session moves its own deadline by recording the tick of its last byte,
/// which costs no wheel work; when its slot comes round the wheel asks it whether it really
/// expired, and files it again if not. Not thread-safe: owned by one event loop.
final class TimerWheel {
    /// Wheel resolution; a deadline fires at most this late.
    static let tickNanoseconds: UInt64 = 100_000_000
    private static let slotCount = 4096

    private var slots: [[any WheelTimed]]
    /// The last tick processed; readers use it as a cheap "now".
    private(set) var currentTick: Int64 = 0
    private(set) var count = 0

    init() {
        slots = Array(repeating: [], count: Self.slotCount)
    }

    /// Entries the slots have storage for (test support: memory must follow the load, not its peak).
    var storageCapacity: Int { slots.reduce(0) { $0 + $1.capacity } }

    /// Ticks for a duration, rounded up, at least one. From the clamped unsigned nanoseconds: at most
    /// about 1.8e11 ticks (58,000 years), so `now + ticks` sums cannot overflow even for a duration at
    /// the config parser's limit (`connect_timeout: 9223372036854ms` once trapped here).
    static func ticks(for duration: Duration) -> Int64 {
        let nanos = duration.nanosecondsClamped
        let ticks = nanos / tickNanoseconds + (nanos % tickNanoseconds == 0 ? 0 : 1)
        return Int64(max(ticks, 1))
    }

    /// Files `entry` to fire at `tick` (replacing any earlier filing).
    func schedule(_ entry: any WheelTimed, at tick: Int64) {
        if entry.wheelSlot >= 0 { cancel(entry) }
        let slot = Int(max(tick, currentTick + 1) & Int64(Self.slotCount - 1))
        entry.wheelSlot = Int32(slot)
        entry.wheelPosition = Int32(slots[slot].count)
        slots[slot].append(entry)
        count += 1
    }

    /// Removes `entry` if it is filed.
    func cancel(_ entry: any WheelTimed) {
        let slot = Int(entry.wheelSlot)
        guard slot >= 0 else { return }
        let position = Int(entry.wheelPosition)
        let last = slots[slot].count - 1
        if position != last {
            let moved = slots[slot][last]
            slots[slot][position] = moved
            moved.wheelPosition = Int32(position)
        }
        slots[slot].removeLast()
        // An emptied slot gives its storage back: otherwise every one of the 4,096 slots keeps the
        // capacity of its busiest moment (a connect burst files thousands of deadlines in one slot).
        if last == 0 { slots[slot] = [] }
        entry.wheelSlot = -1
        entry.wheelPosition = -1
        count -= 1
    }

    /// Processes every tick up to `tick`, firing what is due.
    func advance(to tick: Int64) {
        // After a long stall, one full turn visits every slot; more turns would only repeat it.
        var next = max(currentTick + 1, tick - Int64(Self.slotCount) + 1)
        while next <= tick {
            currentTick = next
            fire(slot: Int(next & Int64(Self.slotCount - 1)), tick: next)
            next += 1
        }
        currentTick = max(currentTick, tick)
    }

    private func fire(slot: Int, tick: Int64) {
        guard !slots[slot].isEmpty else { return }
        let due = slots[slot]
        slots[slot] = []
        count -= due.count
        for entry in due {
            entry.wheelSlot = -1
            entry.wheelPosition = -1
        }
        for entry in due {
            // An entry may have been re-filed by an earlier one's callback (it closed its partner).
            guard entry.wheelSlot < 0 else { continue }
            if let later = entry.wheelTickReached(tick), entry.wheelSlot < 0 {
                schedule(entry, at: later)
            }
        }
    }
}
