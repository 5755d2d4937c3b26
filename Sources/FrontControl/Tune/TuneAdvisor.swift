import FrontConfig
import FrontCore
import FrontProxy

/// The `brokerfront tune` playbook as a pure function: a configuration, a number of client sessions and
/// the host's facts in; one ``TuneCheck`` per limit and the values for the snippets out.
///
/// No I/O: ``HostFacts/current()`` gathers the facts, ``TuneReport`` prints the result, and tests feed
/// made-up hosts. The figures behind the estimates were measured on Linux (shared/RECIPES.md).
public struct TuneAdvisor: Sendable {
    /// The validated configuration to size for.
    public var configuration: FrontConfiguration
    /// Concurrent client sessions to size for.
    public var sessions: Int
    /// The host as it is now.
    public var host: HostFacts

    /// Descriptors per proxied session: the client's socket and the upstream one.
    public static let descriptorsPerSession: UInt64 = 2
    /// Descriptors kept besides sessions for event loops, relay threads, listeners, checks, the admin
    /// plane and logs, as `run` counts them on a host with ``HostFacts/cpus`` CPUs.
    public var descriptorReserve: UInt64 {
        FileDescriptorLimit.reserve(for: configuration, eventLoops: host.cpus)
    }
    /// The backlog the front asks for on its listening sockets (`FrontProxy`); the kernel caps it at somaxconn.
    public static let listenBacklog = 4096
    /// Kernel memory per idle TCP socket, measured on loopback (~3.6 KiB).
    public static let kernelBytesPerSocket = 3_686.0
    /// User-space memory per idle session on a relay thread (1.10 KiB measured with 300,000 sessions,
    /// release build, 2026-11-22 and 2026-12-04; docs/benchmarks.md, "Scale").
    public static let userBytesPerRelayedSession = 1_130.0
    /// User-space memory per idle session that stays on its two SwiftNIO channels: TLS sessions, and
    /// every session with `relay_threads: 0` (5.22 KiB measured without TLS; TLS state comes on top).
    public static let userBytesPerChannelSession = 5_350.0
    /// Share of a limit above which a check warns.
    public static let warnShare = 0.8
    /// Connection-tracking entries per session: the client's flow and the upstream one.
    public static let conntrackPerSession: UInt64 = 2

    /// The most sessions sized for: 2 descriptors each already pass Linux's `fs.nr_open` ceiling (2^30)
    /// long before; bounding them keeps every product below in range (a `max_connections` or
    /// `--connections` near Int.max once crashed `tune` with an arithmetic overflow).
    public static let maximumSessions = 1_000_000_000

    /// An advisor for `sessions` sessions of `configuration` on `host` (clamped to ``maximumSessions``).
    public init(configuration: FrontConfiguration, sessions: Int, host: HostFacts) {
        self.configuration = configuration
        self.sessions = min(max(sessions, 0), Self.maximumSessions)
        self.host = host
    }

    /// Every check, in the order an operator fixes them, and the values for the snippets.
    public func advise() -> TuneAdvice {
        let spread = SessionSpread(configuration: configuration, sessions: sessions)
        var checks = [admittedCheck(), nofileCheck(), nrOpenCheck(), fileMaxCheck(), sourceIPCheck()]
        checks += portChecks(spread)
        if let sourcePorts = sourcePortsCheck() { checks.append(sourcePorts) }
        checks += [
            somaxconnCheck(), twReuseCheck(spread), tcpMemCheck(spread), bufferCheck(spread),
            memoryCheck(spread), conntrackCheck(),
        ]
        return TuneAdvice(sessions: sessions, checks: checks, recommendation: recommendation(spread))
    }

    /// Descriptors `sessions` need: 2 each plus the reserve.
    public var descriptorsNeeded: UInt64 {
        UInt64(sessions) * Self.descriptorsPerSession + descriptorReserve
    }

    private var descriptorNeed: String {
        "\(TuneFormat.count(sessions)) sessions need \(TuneFormat.count(descriptorsNeeded)) "
            + "(2 per session + \(descriptorReserve) reserve)"
    }

    /// The config's own caps: the sessions it admits at most.
    func admittedCheck() -> TuneCheck {
        var admitted = configuration.maxConnections
        let listenerCaps = configuration.listeners.map(\.maxConnections)
        if !listenerCaps.isEmpty && !listenerCaps.contains(0) { admitted = min(admitted, listenerCaps.saturatingSum()) }
        let found = "the config admits \(TuneFormat.count(admitted)) sessions (max_connections and listener caps)"
        if sessions > admitted {
            return TuneCheck(
                .warn, "max_connections", found: found,
                needed: "\(TuneFormat.count(sessions)) asked for: raise max_connections to serve them all")
        }
        return TuneCheck(.ok, "max_connections", found: found, needed: "\(TuneFormat.count(sessions)) asked for")
    }

    /// RLIMIT_NOFILE: `run` raises the soft limit to the hard one, so the hard one decides.
    func nofileCheck() -> TuneCheck {
        guard let hard = host.nofileHard, let soft = host.nofileSoft else {
            return TuneCheck(.warn, "nofile", found: "RLIMIT_NOFILE could not be read", needed: descriptorNeed)
        }
        let found = "RLIMIT_NOFILE soft \(TuneFormat.count(soft)), hard \(TuneFormat.count(hard)) (this shell)"
        if hard < descriptorsNeeded {
            let fit = hard > descriptorReserve ? (hard - descriptorReserve) / 2 : 0
            return TuneCheck(
                .fail, "nofile", found: found,
                needed: descriptorNeed + "; \(TuneFormat.count(fit)) fit: raise LimitNOFILE / limits.conf nofile")
        }
        let raise = soft < descriptorsNeeded ? "; run raises the soft limit to the hard one at start" : ""
        return TuneCheck(.ok, "nofile", found: found, needed: descriptorNeed + raise)
    }

    /// fs.nr_open: no process's RLIMIT_NOFILE can go above it.
    func nrOpenCheck() -> TuneCheck {
        guard let nrOpen = host.nrOpen else {
            return TuneCheck(.warn, "fs.nr_open", found: "could not be read", needed: descriptorNeed)
        }
        let found = "\(TuneFormat.count(nrOpen)) per process at most"
        if nrOpen < descriptorsNeeded {
            return TuneCheck(
                .fail, "fs.nr_open", found: found, needed: descriptorNeed + "; LimitNOFILE cannot go above fs.nr_open")
        }
        return TuneCheck(.ok, "fs.nr_open", found: found, needed: descriptorNeed)
    }

    /// fs.file-max: open files of all processes together.
    func fileMaxCheck() -> TuneCheck {
        guard let fileMax = host.fileMax else {
            return TuneCheck(.warn, "fs.file-max", found: "could not be read", needed: descriptorNeed)
        }
        let found = "\(TuneFormat.count(fileMax)) system-wide"
        if fileMax < descriptorsNeeded {
            return TuneCheck(.fail, "fs.file-max", found: found, needed: descriptorNeed)
        }
        if Double(descriptorsNeeded) > Double(fileMax) * Self.warnShare {
            let share = TuneFormat.percent(Double(descriptorsNeeded) / Double(fileMax))
            return TuneCheck(
                .warn, "fs.file-max", found: found,
                needed: descriptorNeed + ", \(share) of it: other processes need files too")
        }
        return TuneCheck(.ok, "fs.file-max", found: found, needed: descriptorNeed)
    }
}
