import FrontConfig
import FrontCore
import NIOCore

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

    /// Raises the soft RLIMIT_NOFILE to the hard limit and reports whether `configuration` fits on
    /// `eventLoops` event loops.
    public static func raise(for configuration: FrontConfiguration, eventLoops: Int = System.coreCount) -> Report {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let soft = UInt64(limit.rlim_cur)
        let reserve = reserve(for: configuration, eventLoops: eventLoops)
        return Report(
            soft: soft, hard: UInt64(limit.rlim_max), needed: needed(for: configuration, eventLoops: eventLoops),
            sessionsThatFit: sessionsThatFit(soft: soft, reserve: reserve))
    }

    /// The smallest reserve, whatever the host: stdio, logs, config and TLS files read on reload.
    public static let minimumReserve: UInt64 = 64

    /// Admin connections served at once; more wait in the admin socket's backlog. A slot costs one
    /// descriptor (counted in ``reserve``) and a few KiB, and is held at most the admin plane's idle
    /// timeout by a client that sends nothing; 128 leaves room for scrapers and probes beside 64 idle
    /// sockets.
    public static let adminConnections = 128

    /// Descriptors the front holds besides its sessions, for `configuration` on `eventLoops` event
    /// loops: 3 per event loop (epoll, eventfd, timer), 3 per relay thread (epoll, eventfd, its
    /// assist's), one listening socket per listener and event loop or relay thread, one per checked
    /// server (checks run one at a time per server), the admin plane's socket and connections, and
    /// 16 for stdio, logs and files; never less than ``minimumReserve``. Sessions get what is left,
    /// so the front stops accepting before a check or the admin plane meets EMFILE.
    public static func reserve(for configuration: FrontConfiguration, eventLoops: Int) -> UInt64 {
        let loops = UInt64(max(eventLoops, 1))
        let relays = UInt64(max(configuration.relayThreadCount(eventLoops: eventLoops), 0))
        let listeners = UInt64(configuration.listeners.count) * max(loops, relays)
        let checks = UInt64(
            configuration.backends.filter { $0.healthCheck != nil }.map(\.servers.count).saturatingSum())
        let admin = configuration.admin == nil ? 0 : UInt64(adminConnections) + 1
        let parts: [UInt64] = [16, 3 * loops, 3 * relays, listeners, checks, admin]
        let total = parts.reduce(UInt64(0)) { $0.addingReportingOverflow($1).overflow ? .max : $0 + $1 }
        return max(minimumReserve, total)
    }

    /// 2 descriptors per session after the reserve.
    static func sessionsThatFit(soft: UInt64, reserve: UInt64) -> UInt64 {
        soft > reserve ? (soft - reserve) / 2 : 0
    }

    /// 2 per session at the effective cap (global cap, or the sum of listener caps if smaller), plus
    /// the reserve for `eventLoops` event loops.
    public static func needed(for configuration: FrontConfiguration, eventLoops: Int) -> UInt64 {
        var sessions = UInt64(max(configuration.maxConnections, 0))
        let listenerCaps = configuration.listeners.map(\.maxConnections)
        if !listenerCaps.contains(0) {
            sessions = min(sessions == 0 ? .max : sessions, UInt64(listenerCaps.saturatingSum()))
        }
        if sessions == 0 || sessions == .max { return .max }
        let (doubled, overflow) = sessions.multipliedReportingOverflow(by: 2)
        let (total, overflow2) = doubled.addingReportingOverflow(reserve(for: configuration, eventLoops: eventLoops))
        return overflow || overflow2 ? .max : total
    }
}
