import Foundation

/// The kernel's ephemeral port range (`net.ipv4.ip_local_port_range`): how many upstream
/// connections one source IP can hold toward one destination with IP_BIND_ADDRESS_NO_PORT.
enum PortRange {
    /// Ports in the range, read once; 28,232 (Linux's default 32768–60999) when unreadable.
    static let size: Int = {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        else { return 28_232 }
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard bounds.count == 2, bounds[1] >= bounds[0] else { return 28_232 }
        return bounds[1] - bounds[0] + 1
    }()

    /// Upstream connections from one source IP to one server at which the front warns (80%).
    static var warningThreshold: Int { size * 8 / 10 }
}
