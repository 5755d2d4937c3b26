import Foundation
import FrontConfig
import Logging

/// The kernel's ephemeral port range (`net.ipv4.ip_local_port_range`): how many upstream
/// connections one source IP can hold toward one destination with IP_BIND_ADDRESS_NO_PORT.
enum PortRange {
    /// The range, read once; nil when unreadable.
    static let bounds: ClosedRange<Int>? = {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        else { return nil }
        let numbers = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard numbers.count == 2, numbers[1] >= numbers[0] else { return nil }
        return numbers[0]...numbers[1]
    }()

    /// Ports in the range; 28,232 (Linux's default 32768–60999) when unreadable.
    static var size: Int { bounds?.count ?? 28_232 }

    /// Upstream connections from one source IP to one server at which the front warns (80%).
    static var warningThreshold: Int { size * 8 / 10 }

    /// Warns once per backend whose `source_ports` share ports with the ephemeral range: the front
    /// holds them bound, and connect() anywhere on the host skips a port a bind() holds (see
    /// `SourcePortRange.overlap(withEphemeral:)`). At start and after each reload.
    static func warnAboutOverlaps(in configuration: FrontConfiguration, logger: Logger) {
        guard let ephemeral = bounds else { return }
        for backend in configuration.backends {
            guard let ports = backend.sourcePorts, let shared = ports.overlap(withEphemeral: ephemeral) else {
                continue
            }
            let outside = SourcePortRange.outside(ephemeral: ephemeral).map { "use e.g. \($0)" } ?? "narrow it"
            logger.warning(
                "source_ports overlaps ip_local_port_range: connect() on this host skips every port the front holds there",
                metadata: [
                    "backend": .string(backend.name), "source_ports": .string("\(ports)"),
                    "ip_local_port_range": .string("\(ephemeral.lowerBound)-\(ephemeral.upperBound)"),
                    "shared": .string("\(shared.lowerBound)-\(shared.upperBound)"), "hint": .string(outside),
                ])
        }
    }
}
