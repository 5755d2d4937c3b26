/// What `brokerfront tune` knows about the host: descriptor limits, the kernel's network sysctls and
/// the addresses on its interfaces.
///
/// A plain value so ``TuneAdvisor`` stays pure: ``current()`` (in `HostFacts+Reading.swift`) fills it from
/// `getrlimit`, `/proc/sys` and `getifaddrs`; tests build it by hand. Every field the host may not offer
/// (no `/proc` on macOS, a module not loaded) is optional, and the advisor says so instead of guessing.
public struct HostFacts: Sendable, Equatable {
    /// `RLIMIT_NOFILE` soft limit of this process (`ulimit -n`).
    public var nofileSoft: UInt64?
    /// `RLIMIT_NOFILE` hard limit; `run` raises the soft limit to it at start.
    public var nofileHard: UInt64?
    /// `fs.nr_open`: the ceiling for any process's `RLIMIT_NOFILE`.
    public var nrOpen: UInt64?
    /// `fs.file-max`: open files system-wide.
    public var fileMax: UInt64?
    /// `net.ipv4.ip_local_port_range`: the ephemeral ports connect() picks from.
    public var portRange: ClosedRange<Int>?
    /// `net.core.somaxconn`: the cap on every listen backlog.
    public var somaxconn: Int?
    /// `net.ipv4.tcp_max_syn_backlog`: half-open connections queued per listener.
    public var tcpMaxSynBacklog: Int?
    /// `net.ipv4.tcp_tw_reuse`: 0 off, 1 on, 2 loopback only (the kernel default since 5.7).
    public var tcpTwReuse: Int?
    /// `net.ipv4.tcp_mem`: min, pressure, max, in pages, for all TCP sockets together.
    public var tcpMem: [UInt64]?
    /// `net.ipv4.tcp_rmem`: min, default, max receive buffer per socket, in bytes.
    public var tcpRmem: [UInt64]?
    /// `net.ipv4.tcp_wmem`: min, default, max send buffer per socket, in bytes.
    public var tcpWmem: [UInt64]?
    /// `net.netfilter.nf_conntrack_max`; nil when connection tracking is not loaded.
    public var conntrackMax: UInt64?
    /// `net.netfilter.nf_conntrack_count`: entries now; 0 on a busy host means no rule hooks tracking in.
    public var conntrackCount: UInt64?
    /// `MemTotal` from `/proc/meminfo`, in bytes.
    public var memoryTotal: UInt64?
    /// The page size `tcp_mem` counts in.
    public var pageSize: UInt64
    /// Addresses configured on interfaces (`getifaddrs`), as `inet_ntop` writes them.
    public var interfaceAddresses: [String]
    /// Whether every 127.x.y.z is local without being listed (Linux routes 127.0.0.0/8 to `lo`).
    public var loopbackCoversSlash8: Bool
    /// CPUs the front would run an event loop on each (its descriptor reserve grows with them).
    public var cpus: Int

    /// Facts as given; anything left nil is reported as unknown.
    public init(
        nofileSoft: UInt64? = nil,
        nofileHard: UInt64? = nil,
        nrOpen: UInt64? = nil,
        fileMax: UInt64? = nil,
        portRange: ClosedRange<Int>? = nil,
        somaxconn: Int? = nil,
        tcpMaxSynBacklog: Int? = nil,
        tcpTwReuse: Int? = nil,
        tcpMem: [UInt64]? = nil,
        tcpRmem: [UInt64]? = nil,
        tcpWmem: [UInt64]? = nil,
        conntrackMax: UInt64? = nil,
        conntrackCount: UInt64? = nil,
        memoryTotal: UInt64? = nil,
        pageSize: UInt64 = 4096,
        interfaceAddresses: [String] = [],
        loopbackCoversSlash8: Bool = true,
        cpus: Int = 1
    ) {
        self.nofileSoft = nofileSoft
        self.nofileHard = nofileHard
        self.nrOpen = nrOpen
        self.fileMax = fileMax
        self.portRange = portRange
        self.somaxconn = somaxconn
        self.tcpMaxSynBacklog = tcpMaxSynBacklog
        self.tcpTwReuse = tcpTwReuse
        self.tcpMem = tcpMem
        self.tcpRmem = tcpRmem
        self.tcpWmem = tcpWmem
        self.conntrackMax = conntrackMax
        self.conntrackCount = conntrackCount
        self.memoryTotal = memoryTotal
        self.pageSize = pageSize
        self.interfaceAddresses = interfaceAddresses
        self.loopbackCoversSlash8 = loopbackCoversSlash8
        self.cpus = cpus
    }

    /// Number of ports in ``portRange``.
    public var portCount: Int? { portRange.map { $0.count } }
}
