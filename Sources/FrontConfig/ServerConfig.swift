/// `send_proxy_protocol`.
public enum ProxyProtocolVersion: String, Sendable, CaseIterable {
    case none, v1, v2
}

/// `backends[i].servers[j]`.
public struct ServerConfig: Sendable, Equatable {
    public var name: String
    public var address: Endpoint
    public var weight: Int
    /// 0 = no cap.
    public var maxConnections: Int
    public var backup: Bool
    /// Overrides the backend's `source_ips` when not empty.
    public var sourceIPs: [String]

    public init(
        name: String,
        address: Endpoint,
        weight: Int = 1,
        maxConnections: Int = 0,
        backup: Bool = false,
        sourceIPs: [String] = []
    ) {
        self.name = name
        self.address = address
        self.weight = weight
        self.maxConnections = maxConnections
        self.backup = backup
        self.sourceIPs = sourceIPs
    }
}

/// `source_ports: LOW-HIGH`: the ports the front binds outbound connections to itself.
public struct SourcePortRange: Sendable, Equatable, CustomStringConvertible {
    public var lower: Int
    public var upper: Int

    public init(lower: Int, upper: Int) {
        self.lower = lower
        self.upper = upper
    }

    public var count: Int { upper - lower + 1 }
    public var description: String { "\(lower)-\(upper)" }

    /// Parses `LOW-HIGH` (1 ≤ LOW ≤ HIGH ≤ 65535).
    public static func parse(_ text: String) throws(ConfigValueError) -> SourcePortRange {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let lower = Int(parts[0].filter { $0 != " " }),
            let upper = Int(parts[1].filter { $0 != " " })
        else { throw ConfigValueError("`\(text)` is not a port range; use LOW-HIGH, e.g. 1024-65535") }
        guard (1...65_535).contains(lower), (1...65_535).contains(upper) else {
            throw ConfigValueError("`\(text)`: ports must be within 1...65535")
        }
        guard lower <= upper else { throw ConfigValueError("`\(text)`: the low port is above the high one") }
        return SourcePortRange(lower: lower, upper: upper)
    }

    /// The ports this range shares with the kernel's ephemeral range (`ip_local_port_range`), nil when
    /// none. Such ports hurt the whole host: the front holds them bound (SO_REUSEADDR), and the
    /// kernel's connect() search skips every port a bind() holds, whatever the address — so each one
    /// is lost to every other outgoing connection on the host (health checks, kernel-chosen dials,
    /// other programs), and connect() slows down scanning past them as they fill the range.
    public func overlap(withEphemeral ephemeral: ClosedRange<Int>) -> ClosedRange<Int>? {
        let low = max(lower, ephemeral.lowerBound)
        let high = min(upper, ephemeral.upperBound)
        return low <= high ? low...high : nil
    }

    /// The widest range of unprivileged ports outside `ephemeral`: below it (from 1024) or above it.
    /// Nil when the ephemeral range leaves fewer than two such ports.
    public static func outside(ephemeral: ClosedRange<Int>) -> SourcePortRange? {
        var candidates: [SourcePortRange] = []
        if ephemeral.lowerBound > 1025 {
            candidates.append(SourcePortRange(lower: 1024, upper: ephemeral.lowerBound - 1))
        }
        if ephemeral.upperBound < 65_534 {
            candidates.append(SourcePortRange(lower: max(1024, ephemeral.upperBound + 1), upper: 65_535))
        }
        return candidates.max { $0.count < $1.count }
    }
}
