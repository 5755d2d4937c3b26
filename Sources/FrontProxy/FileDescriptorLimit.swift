import FrontConfig

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
            sessionsThatFit: soft > reserve ? (soft - reserve) / 2 : 0)
    }

    /// Descriptors kept for listeners, the admin plane, checks and logs.
    static let reserve: UInt64 = 64

    /// 2 per session at the effective cap (global cap, or the sum of listener caps if smaller), plus the reserve.
    public static func needed(for configuration: FrontConfiguration) -> UInt64 {
        var sessions = UInt64(max(configuration.maxConnections, 0))
        let listenerCaps = configuration.listeners.map(\.maxConnections)
        if !listenerCaps.contains(0) {
            sessions = min(sessions == 0 ? .max : sessions, UInt64(listenerCaps.reduce(0, +)))
        }
        if sessions == 0 || sessions == .max { return .max }
        return sessions * 2 + reserve
    }
}
