/// Operational state from health evidence: checks (when configured) and dial outcomes.
public enum OperationalState: String, Sendable {
    case up, down
}

/// Operator state, apart from health (HAProxy keeps the two apart as well): `drain` takes no new
/// sessions but keeps open ones; `maint` also pauses checks.
public enum AdminState: String, Sendable {
    case ready, drain, maint
}

/// A change of operational state, returned so the caller can log it once, update gauges and
/// re-evaluate failover.
public enum HealthTransition: Sendable, Equatable {
    case wentUp
    case wentDown
}

/// The outcome of one active health check, as `/status` shows it.
public struct CheckResult: Sendable, Equatable {
    public var ok: Bool
    public var duration: Duration
    /// What the server answered or what went wrong (`CONNACK 0 accepted`, `role:slave`, `timeout`).
    public var message: String

    public init(ok: Bool, duration: Duration, message: String) {
        self.ok = ok
        self.duration = duration
        self.message = message
    }
}

/// The health state machine of one server, a value type driven by events and an injected time.
///
/// **Without an active check** a server is `up` until a dial to it fails; then it is `down` and
/// is tried again after a back-off of 1 s that doubles on every further failure, up to 30 s
/// (passive health). A successful dial brings it back up.
///
/// **With an active check** it starts `down` and is `up` after its first passing check; later
/// flips need `rise` passes or `fall` failures in a row. A failed dial on the data path counts as
/// a failed check that takes the server down at once (fast down), so the next client does not wait
/// for the next interval; only checks bring it back.
public struct ServerHealthState: Sendable, Equatable {
    public private(set) var operational: OperationalState
    public var admin: AdminState = .ready
    /// Consecutive failed dials since the last success.
    public private(set) var consecutiveDialFailures = 0
    /// When a dial last went through: an ambiguous failure of a dial begun before then is no evidence.
    public private(set) var lastDialSuccess: MonotonicTime?
    /// While passively down: when the next trial session may be sent.
    public private(set) var retryAt: MonotonicTime?
    /// `rise`/`fall` when an active check is configured; nil for passive health only.
    public let checkThresholds: (rise: Int, fall: Int)?
    /// Whether a check (of the current settings) has completed yet: the first pass brings a checked
    /// server up at once.
    public private(set) var checked = false
    public private(set) var consecutivePasses = 0
    public private(set) var consecutiveFailures = 0
    /// The last completed check.
    public private(set) var lastCheck: CheckResult?
    /// When the server last came up (for slow start); nil while down or when it was up from the start.
    public private(set) var upSince: MonotonicTime?
    /// When a check last passed (for `redis-master`: when the server last claimed master).
    public private(set) var lastPassAt: MonotonicTime?
    /// Whether this state was carried over a reload that changed the check: the new check's first
    /// result then decides at once, either way, and a server it brings up ramps up (slow start).
    public private(set) var carriedOver = false

    /// First back-off after a failed dial.
    public static let initialBackoff: Duration = .seconds(1)
    /// Largest back-off between trials.
    public static let maximumBackoff: Duration = .seconds(30)

    /// A server with passive health only: starts `up`.
    public init(operational: OperationalState = .up) {
        self.operational = operational
        self.checkThresholds = nil
    }

    /// A server with an active check: starts `down` until its first passing check.
    public init(rise: Int, fall: Int) {
        self.operational = .down
        self.checkThresholds = (max(rise, 1), max(fall, 1))
    }

    /// The state of a server whose check settings a reload changed (`thresholds`: the new `rise`/`fall`,
    /// nil for passive health only): its last known state stands until the new check's first result,
    /// which decides at once. Without a check any more, a server that was down gets a trial at once.
    public init(carrying previous: ServerHealthState, thresholds: (rise: Int, fall: Int)?, at now: MonotonicTime) {
        self.operational = previous.operational
        self.checkThresholds = thresholds.map { (max($0.rise, 1), max($0.fall, 1)) }
        self.admin = previous.admin
        self.consecutiveDialFailures = previous.consecutiveDialFailures
        self.lastDialSuccess = previous.lastDialSuccess
        self.retryAt = previous.retryAt
        self.lastCheck = previous.lastCheck
        self.upSince = previous.upSince
        self.lastPassAt = previous.lastPassAt
        self.carriedOver = true
        if thresholds == nil && operational == .down { retryAt = min(retryAt ?? now, now) }
    }

    public static func == (lhs: ServerHealthState, rhs: ServerHealthState) -> Bool {
        lhs.operational == rhs.operational && lhs.admin == rhs.admin
            && lhs.consecutiveDialFailures == rhs.consecutiveDialFailures && lhs.retryAt == rhs.retryAt
            && lhs.checkThresholds?.rise == rhs.checkThresholds?.rise
            && lhs.checkThresholds?.fall == rhs.checkThresholds?.fall && lhs.checked == rhs.checked
            && lhs.consecutivePasses == rhs.consecutivePasses && lhs.consecutiveFailures == rhs.consecutiveFailures
            && lhs.lastCheck == rhs.lastCheck && lhs.upSince == rhs.upSince
            && lhs.lastDialSuccess == rhs.lastDialSuccess && lhs.lastPassAt == rhs.lastPassAt
            && lhs.carriedOver == rhs.carriedOver
    }

    /// Whether the server is actively checked.
    public var isChecked: Bool { checkThresholds != nil }

    /// Whether checks should run now (`maint` pauses them).
    public var checksEnabled: Bool { isChecked && admin != .maint }

    /// Whether a new session may be sent here at `now`: admin ready, and up — or, with passive
    /// health only, down with its back-off elapsed (one trial then decides).
    public func acceptsNewSessions(at now: MonotonicTime) -> Bool {
        guard admin == .ready else { return false }
        switch operational {
        case .up: return true
        case .down:
            guard !isChecked, let retryAt else { return false }
            return now >= retryAt
        }
    }

    /// Whether the server counts as healthy for failover decisions (up and admin ready).
    public var isUsable: Bool { admin == .ready && operational == .up }

    /// Whether the server still counts as a master for the split-brain fence at `now`: admin ready,
    /// and up or with a passing check (it claimed master) within `window` (`fall` × `interval`: the
    /// time checks need to take it down). A server down on passive evidence alone (a refused dial)
    /// still counts, so that evidence never hands its traffic to another server claiming master.
    public func countsInFence(at now: MonotonicTime, window: Duration) -> Bool {
        guard admin == .ready else { return false }
        if operational == .up { return true }
        guard let lastPassAt else { return false }
        return now.since(lastPassAt) < window
    }

    /// Failed dials in a row that take a server down when none of them was definitive.
    public static let ambiguousDialFailuresForDown = 3

    /// A dial to the server failed. `definitive` failures (connection refused or reset: nothing
    /// listens there) take the server down at once; ambiguous ones (timeouts, which an overloaded but
    /// healthy broker also produces during a reconnect storm) only after
    /// ``ambiguousDialFailuresForDown`` in a row. An ambiguous failure of a dial that began
    /// (`begunAt`) before another dial to the server went through does not count at all: the server
    /// was accepting meanwhile (a connect storm against a busy broker times out some dials while
    /// later ones succeed). Either way the failed session tries another server.
    public mutating func dialFailed(
        at now: MonotonicTime, definitive: Bool = true, begunAt: MonotonicTime? = nil
    ) -> HealthTransition? {
        if !definitive, let begunAt, let lastDialSuccess, !(lastDialSuccess < begunAt) { return nil }
        consecutiveDialFailures += 1
        if !definitive && operational == .up && consecutiveDialFailures < Self.ambiguousDialFailuresForDown {
            return nil
        }
        let exponent = min(consecutiveDialFailures - 1, 5)
        let backoff = min(Self.initialBackoff * (1 << exponent), Self.maximumBackoff)
        retryAt = now.adding(backoff)
        if isChecked {
            consecutivePasses = 0
            consecutiveFailures = max(consecutiveFailures, checkThresholds?.fall ?? 1)
        }
        if operational == .up {
            operational = .down
            upSince = nil
            return .wentDown
        }
        return nil
    }

    /// A dial to the server succeeded. With active checks only checks bring a server up.
    public mutating func dialSucceeded(at now: MonotonicTime = .now()) -> HealthTransition? {
        consecutiveDialFailures = 0
        lastDialSuccess = now
        retryAt = nil
        if operational == .down && !isChecked {
            operational = .up
            upSince = now
            return .wentUp
        }
        return nil
    }

    /// Records a completed active check and applies rise/fall.
    public mutating func checkCompleted(_ result: CheckResult, at now: MonotonicTime = .now()) -> HealthTransition? {
        guard let (rise, fall) = checkThresholds else { return nil }
        lastCheck = result
        let first = !checked
        checked = true
        if result.ok {
            lastPassAt = now
            consecutivePasses += 1
            consecutiveFailures = 0
            if operational == .down && (first || consecutivePasses >= rise) {
                operational = .up
                consecutiveDialFailures = 0
                retryAt = nil
                // The very first pass at start-up is not a return: no ramp for the initial fleet.
                upSince = first && !carriedOver ? nil : now
                return .wentUp
            }
        } else {
            consecutiveFailures += 1
            consecutivePasses = 0
            if operational == .up && (consecutiveFailures >= fall || (first && carriedOver)) {
                operational = .down
                upSince = nil
                return .wentDown
            }
        }
        return nil
    }
}
