/// Operational state from health evidence: checks (when configured) and dial outcomes.
public enum OperationalState: String, Sendable {
    case up, down
}

/// Operator state, apart from health (HAProxy keeps the two apart as well): `drain` takes no new
/// sessions but keeps open ones; `maint` also pauses checks.
public enum AdminState: String, Sendable {
    case ready, drain, maint
}

/// A change of operational state, returned so the caller can log it once and update gauges.
public enum HealthTransition: Sendable, Equatable {
    case wentUp
    case wentDown
}

/// The health state machine of one server, a value type driven by events and an injected time.
///
/// Without an active check a server is `up` until a dial to it fails; then it is `down` and is
/// tried again after a back-off of 1 s that doubles on every further failure, up to 30 s (passive
/// health). A successful dial brings it back up.
public struct ServerHealthState: Sendable, Equatable {
    public private(set) var operational: OperationalState
    public var admin: AdminState = .ready
    /// Consecutive failed dials since the last success.
    public private(set) var consecutiveDialFailures = 0
    /// While passively down: when the next trial session may be sent.
    public private(set) var retryAt: MonotonicTime?

    /// First back-off after a failed dial.
    public static let initialBackoff: Duration = .seconds(1)
    /// Largest back-off between trials.
    public static let maximumBackoff: Duration = .seconds(30)

    public init(operational: OperationalState = .up) {
        self.operational = operational
    }

    /// Whether a new session may be sent here at `now`: admin ready, and up, or down with its
    /// back-off elapsed (one trial then decides).
    public func acceptsNewSessions(at now: MonotonicTime) -> Bool {
        guard admin == .ready else { return false }
        switch operational {
        case .up: return true
        case .down:
            guard let retryAt else { return false }
            return now >= retryAt
        }
    }

    /// A dial to the server failed (refused, timed out, reset before use).
    public mutating func dialFailed(at now: MonotonicTime) -> HealthTransition? {
        consecutiveDialFailures += 1
        let exponent = min(consecutiveDialFailures - 1, 5)
        let backoff = min(Self.initialBackoff * (1 << exponent), Self.maximumBackoff)
        retryAt = now.adding(backoff)
        if operational == .up {
            operational = .down
            return .wentDown
        }
        return nil
    }

    /// A dial to the server succeeded.
    public mutating func dialSucceeded() -> HealthTransition? {
        consecutiveDialFailures = 0
        retryAt = nil
        if operational == .down {
            operational = .up
            return .wentUp
        }
        return nil
    }
}
