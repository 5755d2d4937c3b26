/// What ``TuneAdvisor/advise()`` found: the checks in print order and the values for the snippets.
public struct TuneAdvice: Sendable, Equatable {
    /// The sessions sized for.
    public var sessions: Int
    /// One per limit, in the order an operator fixes them.
    public var checks: [TuneCheck]
    /// The sysctl, limits.conf and LimitNOFILE values that serve the sessions.
    public var recommendation: TuneRecommendation

    /// The advice as computed.
    public init(sessions: Int, checks: [TuneCheck], recommendation: TuneRecommendation) {
        self.sessions = sessions
        self.checks = checks
        self.recommendation = recommendation
    }

    /// The worst verdict (`ok` for no checks).
    public var worst: TuneCheck.Status { checks.map(\.status).max() ?? .ok }

    /// `brokerfront tune`'s exit status: 3 when a check fails, else 0 (warnings pass).
    public var exitCode: Int32 { worst == .fail ? 3 : 0 }

    /// How many checks have `status`.
    public func count(_ status: TuneCheck.Status) -> Int {
        checks.filter { $0.status == status }.count
    }
}
