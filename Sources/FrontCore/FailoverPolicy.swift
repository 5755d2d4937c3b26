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
    /// Whether start-up is over: every server's first check answered (or timed out) once, or a
    /// server was activated. Until then active-passive picks nothing, so the first check to answer
    /// does not win over priority.
    public private(set) var settled = false
    private var heldNoted: Int?
    /// The active server was removed by a reload: the next pick is a failover, not a start-up activation.
    private var currentRemoved = false

    public init(activePassive: Bool, failback: FailbackMode, fence: Bool) {
        self.activePassive = activePassive
        self.failback = failback
        self.fence = fence
    }

    /// Server indices in priority order: actives in list order, then backups in list order.
    static func priorityOrder(isBackup: [Bool]) -> [Int] {
        isBackup.indices.filter { !isBackup[$0] } + isBackup.indices.filter { isBackup[$0] }
    }

    /// This decision carried over a reload to new settings and a new server list (`names` before,
    /// `newNames` after): the active server (by name), the backup tier, a conflict and start-up's end
    /// stay; an active server that is gone makes the next pick a failover.
    public func carried(
        to activePassive: Bool, failback: FailbackMode, fence: Bool, names: [String], newNames: [String]
    ) -> FailoverPolicy {
        var next = FailoverPolicy(activePassive: activePassive, failback: failback, fence: fence)
        next.settled = settled
        next.onBackupTier = onBackupTier
        next.inConflict = inConflict && fence && self.fence
        if activePassive, let current, names.indices.contains(current) {
            next.current = newNames.firstIndex(of: names[current])
            next.currentRemoved = next.current == nil
        }
        if let heldNoted, names.indices.contains(heldNoted) {
            next.heldNoted = newNames.firstIndex(of: names[heldNoted])
        }
        return next
    }

    /// Applies the servers' current usability; returns what changed. `allChecked` says whether
    /// every server has completed a check: at start-up active-passive picks its first server only
    /// then (the highest priority, not the first to answer), and a fenced backend sees two masters
    /// as a conflict instead of a race between their first checks. `claims` (fence only; default
    /// `usable`) says which servers still count as masters: a current master down on passive
    /// evidence alone is held, not replaced.
    public mutating func reevaluate(
        usable: [Bool], isBackup: [Bool], allChecked: Bool = true, claims: [Bool]? = nil
    ) -> [FailoverEvent] {
        if activePassive && current == nil && !allChecked && !inConflict && !settled { return [] }
        if allChecked { settled = true }
        let claims = zip(usable, claims ?? usable).map { $0 || $1 }
        return activePassive
            ? reevaluateActivePassive(usable: usable, isBackup: isBackup, claims: claims)
            : reevaluateTier(usable, isBackup)
    }

    private mutating func reevaluateActivePassive(usable: [Bool], isBackup: [Bool], claims: [Bool]) -> [FailoverEvent] {
        let order = Self.priorityOrder(isBackup: isBackup)
        let candidates = order.filter { usable[$0] }
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
        // Fence: a master down on passive evidence, whose checks have not taken it down, stays the
        // active one; new sessions wait for it rather than go to another master.
        if fence, let current, claims.indices.contains(current), claims[current] { return [] }
        let previous = current
        heldNoted = nil
        let claimants = fence ? order.filter { claims[$0] } : candidates
        if fence && claimants.count > 1 {
            current = nil
            let wasInConflict = inConflict
            inConflict = true
            var events: [FailoverEvent] = []
            if let previous { events.append(.failover(from: previous, to: nil)) }
            if !wasInConflict { events.append(.conflict(candidates: claimants)) }
            return events
        }
        inConflict = false
        current = candidates.first
        if current != nil { settled = true }
        switch (previous, current) {
        case (nil, nil): return []
        case (nil, let to?):
            guard currentRemoved else { return [.activated(to: to)] }
            currentRemoved = false
            return [.failover(from: nil, to: to)]
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
    /// usable server (or the active tier) now. Refused (``FailbackRefusal``), changing nothing, while
    /// more than one server claims master on a fenced backend (`claims`, default `usable`).
    public mutating func operatorFailback(
        usable: [Bool], isBackup: [Bool], claims: [Bool]? = nil
    ) -> Result<[FailoverEvent], FailbackRefusal> {
        if fence {
            let claimants = usable.indices.filter { usable[$0] || (claims?[$0] ?? false) }
            if claimants.count > 1 { return .failure(.severalClaimMaster(claimants)) }
        }
        return .success(failbackNow(usable: usable, isBackup: isBackup))
    }

    private mutating func failbackNow(usable: [Bool], isBackup: [Bool]) -> [FailoverEvent] {
        heldNoted = nil
        if activePassive {
            guard let best = Self.priorityOrder(isBackup: isBackup).first(where: { usable[$0] }) else { return [] }
            guard best != current else { return [] }
            let previous = current
            current = best
            inConflict = false
            settled = true
            return [.failback(from: previous, to: best)]
        }
        guard onBackupTier, let to = usable.indices.first(where: { usable[$0] && !isBackup[$0] }) else { return [] }
        onBackupTier = false
        return [.failback(from: nil, to: to)]
    }
}

/// Why an operator's failback was refused.
public enum FailbackRefusal: Error, Sendable, Equatable {
    /// More than one server claims master (the split-brain fence): moving traffic could pick the
    /// wrong one, so it stays where it is until exactly one does.
    case severalClaimMaster([Int])
}
