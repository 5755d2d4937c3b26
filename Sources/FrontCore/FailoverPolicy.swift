import FrontConfig

/// Something failover decided, for the caller to log, count and act on (close sessions).
public enum FailoverEvent: Sendable, Equatable {
    /// The first server became active (start-up); not counted as a failover.
    case activated(to: Int)
    /// The active server (or tier) was lost; traffic moved to `to` (nil: nowhere).
    case failover(from: Int?, to: Int?)
    /// Traffic returned to a higher-priority server (or to the active tier) while `from` still worked.
    case failback(from: Int?, to: Int)
    /// More than one candidate claims to be master and the active one is gone: no new sessions.
    case conflict(candidates: [Int])
    /// A higher-priority server is usable again but traffic stays put (manual failback or fence).
    case failbackHeld(current: Int, waiting: Int)
}

/// Who takes new sessions when servers come and go: the active-passive choice of `balance: first`,
/// the active/backup tier of the other balances, manual failback, and the split-brain fence.
///
/// A value type with no clock and no I/O: ``reevaluate(usable:isBackup:)`` is called with each
/// server's usability (up and admin-ready, in list order) after every health or admin change.
public struct FailoverPolicy: Sendable, Equatable {
    /// Whether the backend routes active-passive (`balance: first`) rather than by tier.
    public let activePassive: Bool
    public let failback: FailbackMode
    /// `redis-master` checks: usable means "claims master"; never let two of them take sessions.
    public let fence: Bool

    /// `first`: the server taking new sessions, by index.
    public private(set) var current: Int?
    /// Other balances: whether the backup tier is in use.
    public private(set) var onBackupTier = false
    /// Fence: sessions are refused until exactly one candidate claims master.
    public private(set) var inConflict = false
    private var heldNoted: Int?

    public init(activePassive: Bool, failback: FailbackMode, fence: Bool) {
        self.activePassive = activePassive
        self.failback = failback
        self.fence = fence
    }

    /// Server indices in priority order: actives in list order, then backups in list order.
    static func priorityOrder(isBackup: [Bool]) -> [Int] {
        isBackup.indices.filter { !isBackup[$0] } + isBackup.indices.filter { isBackup[$0] }
    }

    /// Applies the servers' current usability; returns what changed. `allChecked` says whether
    /// every server has completed a check: a fenced backend picks its first master only then, so
    /// two masters at start-up are seen as a conflict instead of a race between their first checks.
    public mutating func reevaluate(usable: [Bool], isBackup: [Bool], allChecked: Bool = true) -> [FailoverEvent] {
        if fence && activePassive && current == nil && !allChecked && !inConflict { return [] }
        return activePassive
            ? reevaluateActivePassive(usable: usable, isBackup: isBackup) : reevaluateTier(usable, isBackup)
    }

    private mutating func reevaluateActivePassive(usable: [Bool], isBackup: [Bool]) -> [FailoverEvent] {
        let candidates = Self.priorityOrder(isBackup: isBackup).filter { usable[$0] }
        if let current, usable.indices.contains(current), usable[current] {
            inConflict = false
            guard let best = candidates.first, best != current else {
                heldNoted = nil
                return []
            }
            if failback == .auto && !fence {
                self.current = best
                heldNoted = nil
                return [.failback(from: current, to: best)]
            }
            guard heldNoted != best else { return [] }
            heldNoted = best
            return [.failbackHeld(current: current, waiting: best)]
        }
        let previous = current
        heldNoted = nil
        if fence && candidates.count > 1 {
            current = nil
            let wasInConflict = inConflict
            inConflict = true
            var events: [FailoverEvent] = []
            if let previous { events.append(.failover(from: previous, to: nil)) }
            if !wasInConflict { events.append(.conflict(candidates: candidates)) }
            return events
        }
        inConflict = false
        current = candidates.first
        switch (previous, current) {
        case (nil, nil): return []
        case (nil, let to?): return [.activated(to: to)]
        case (let from?, let to): return [.failover(from: from, to: to)]
        }
    }

    private mutating func reevaluateTier(_ usable: [Bool], _ isBackup: [Bool]) -> [FailoverEvent] {
        let activeUsable = usable.indices.contains { usable[$0] && !isBackup[$0] }
        let backupUsable = usable.indices.contains { usable[$0] && isBackup[$0] }
        let firstActive = usable.indices.first { usable[$0] && !isBackup[$0] }
        let firstBackup = usable.indices.first { usable[$0] && isBackup[$0] }
        if onBackupTier {
            guard activeUsable, let to = firstActive else { return [] }
            if failback == .manual && backupUsable {
                guard let held = firstBackup, heldNoted != to else { return [] }
                heldNoted = to
                return [.failbackHeld(current: held, waiting: to)]
            }
            onBackupTier = false
            heldNoted = nil
            return [.failback(from: nil, to: to)]
        }
        guard !activeUsable, backupUsable, let to = firstBackup else { return [] }
        onBackupTier = true
        return [.failover(from: nil, to: to)]
    }

    /// An operator asked for failback (`POST /backends/{b}/failback`): return to the highest-priority
    /// usable server (or the active tier) now.
    public mutating func operatorFailback(usable: [Bool], isBackup: [Bool]) -> [FailoverEvent] {
        heldNoted = nil
        if activePassive {
            guard let best = Self.priorityOrder(isBackup: isBackup).first(where: { usable[$0] }) else { return [] }
            guard best != current else { return [] }
            let previous = current
            current = best
            inConflict = false
            return [.failback(from: previous, to: best)]
        }
        guard onBackupTier, let to = usable.indices.first(where: { usable[$0] && !isBackup[$0] }) else { return [] }
        onBackupTier = false
        return [.failback(from: nil, to: to)]
    }
}
