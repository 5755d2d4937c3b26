/// The host settings that serve the sized sessions: never below what the host has now, so pasting the
/// snippets only ever raises limits. Built by ``TuneAdvisor``, printed by ``TuneReport``.
public struct TuneRecommendation: Sendable, Equatable {
    /// RLIMIT_NOFILE for the service (`LimitNOFILE=`, limits.conf `nofile`): a power of two, at least 1048576.
    public var nofile: UInt64
    /// `fs.nr_open`, at least ``nofile``.
    public var nrOpen: UInt64
    /// `fs.file-max`.
    public var fileMax: UInt64
    /// `net.ipv4.ip_local_port_range`.
    public var portRange: ClosedRange<Int>
    /// Ports the config listens on (or local brokers do) inside ``portRange``: `ip_local_reserved_ports`.
    public var reservedPorts: [Int]
    /// `net.core.somaxconn`.
    public var somaxconn: Int
    /// `net.ipv4.tcp_max_syn_backlog`.
    public var synBacklog: Int
    /// `net.ipv4.tcp_mem` in pages, when the current values are short (else nil: leave them).
    public var tcpMem: [UInt64]?
    /// The current `tcp_rmem` maximum, kept in the lowered-defaults suggestion.
    public var rmemMax: UInt64
    /// The current `tcp_wmem` maximum, kept in the lowered-defaults suggestion.
    public var wmemMax: UInt64
    /// `net.netfilter.nf_conntrack_max`, when tracking is loaded.
    public var conntrackMax: UInt64?
    /// Whether the host's `fs.nr_open` is known and below ``nrOpen``. Global limits are raise-only:
    /// systemd sets `fs.nr_open` and `fs.file-max` to their maximum at boot, and a sysctl.d line with
    /// a smaller number would lower them, so the line is active only where the host is short.
    public var raiseNrOpen = true
    /// Whether the host's `fs.file-max` is known and below ``fileMax``.
    public var raiseFileMax = true
    /// The `tcp_mem` pressure threshold (pages) the sessions need; printed as advice when ``tcpMem`` is nil.
    public var tcpMemNeeded: UInt64 = 0

    /// The values as computed.
    public init(
        nofile: UInt64, nrOpen: UInt64, fileMax: UInt64, portRange: ClosedRange<Int>, reservedPorts: [Int],
        somaxconn: Int, synBacklog: Int, tcpMem: [UInt64]?, rmemMax: UInt64, wmemMax: UInt64,
        conntrackMax: UInt64?
    ) {
        self.nofile = nofile
        self.nrOpen = nrOpen
        self.fileMax = fileMax
        self.portRange = portRange
        self.reservedPorts = reservedPorts
        self.somaxconn = somaxconn
        self.synBacklog = synBacklog
        self.tcpMem = tcpMem
        self.rmemMax = rmemMax
        self.wmemMax = wmemMax
        self.conntrackMax = conntrackMax
    }
}
