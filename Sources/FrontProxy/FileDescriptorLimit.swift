import FrontConfig
import FrontCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's open-file limit: raised to the hard limit at start, and compared with what the
/// configured connection caps need (2 descriptors per proxied session).
public enum FileDescriptorLimit {
    /// What raising found.
    public struct Report: Sendable, Equatable {
        public var soft: UInt64
        public var hard: UInt64
        /// Descriptors the config's caps need at full load.
        public var needed: UInt64
        /// Sessions that fit in the soft limit.
        public var sessionsThatFit: UInt64
        public var fits: Bool { needed <= soft }
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit and reports whether `configuration` fits.
    public static func raise(for configuration: FrontConfiguration) -> Report {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let soft = UInt64(limit.rlim_cur)
        return Report(
            soft: soft, hard: UInt64(limit.rlim_max), needed: needed(for: configuration),
            sessionsThatFit: sessionsThatFit(soft: soft))
    }

    /// Descriptors kept for listeners, checks and logs (32), and one per admin connection.
    static let reserve: UInt64 = 32 + UInt64(adminConnections)

    /// Admin connections served at once; more wait in the admin socket's backlog. A slot costs one
    /// descriptor (counted in ``reserve``) and a few KiB, and is held at most the admin plane's idle
    /// timeout by a client that sends nothing; 128 leaves room for scrapers and probes beside 64 idle
    /// sockets.
    public static let adminConnections = 128

    /// Sessions that fit in the soft limit in force now (2 descriptors each, after the reserve).
    public static func sessionsThatFitNow() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return .max }
        let soft = UInt64(limit.rlim_cur)
        if soft >= UInt64(Int.max) { return .max }
        return max(Int(sessionsThatFit(soft: soft)), 1)
    }

    /// 2 descriptors per session after the reserve.
    static func sessionsThatFit(soft: UInt64) -> UInt64 {
        soft > reserve ? (soft - reserve) / 2 : 0
    }

    /// The process-wide session cap in force: `configured` (0 = none), lowered to what fits in the
    /// descriptors, so the front stops accepting (clients wait in the backlog) before `accept` or a
    /// dial fails for lack of descriptors.
    public static func effectiveCap(configured: Int) -> Int {
        let fit = sessionsThatFitNow()
        return configured <= 0 ? fit : min(configured, fit)
    }

    /// 2 per session at the effective cap (global cap, or the sum of listener caps if smaller), plus the reserve.
    public static func needed(for configuration: FrontConfiguration) -> UInt64 {
        var sessions = UInt64(max(configuration.maxConnections, 0))
        let listenerCaps = configuration.listeners.map(\.maxConnections)
        if !listenerCaps.contains(0) {
            sessions = min(sessions == 0 ? .max : sessions, UInt64(listenerCaps.saturatingSum()))
        }
        if sessions == 0 || sessions == .max { return .max }
        let (doubled, overflow) = sessions.multipliedReportingOverflow(by: 2)
        let (total, overflow2) = doubled.addingReportingOverflow(reserve)
        return overflow || overflow2 ? .max : total
    }
}
