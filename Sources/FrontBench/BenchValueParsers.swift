/// Parsers for the load generator's command-line values: endpoints, source-IP ranges, durations.
///
/// Pure functions, callable from any thread; each error names the value and what was expected.
public enum BenchValueParsers {
    /// Splits `host:port` (IPv4 or a name; `[v6]:port` for IPv6) into its parts.
    public static func endpoint(_ text: String) throws(BenchOptionError) -> BenchEndpoint {
        var host: Substring
        let portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .invalid(value: text, expected: "[v6]:port") }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .invalid(value: text, expected: "host:port") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65_535).contains(port) else {
            throw .invalid(value: text, expected: "host:port with a port in 0...65535")
        }
        host = host.drop { $0 == " " }
        return BenchEndpoint(host: String(host), port: port)
    }

    /// Splits a comma-separated list of `host:port` endpoints (at least one), in order.
    public static func endpoints(_ text: String) throws(BenchOptionError) -> [BenchEndpoint] {
        var result: [BenchEndpoint] = []
        for part in text.split(separator: ",") { result.append(try endpoint(String(part))) }
        guard !result.isEmpty else { throw .invalid(value: text, expected: "at least one host:port") }
        return result
    }

    /// Checks a topic prefix the bench appends `/<name>` to: not empty, no wildcard (`+`, `#`), no NUL,
    /// no trailing `/` (MQTT 3.1.1 §4.7.1, §1.5.3).
    public static func topicPrefix(_ text: String) throws(BenchOptionError) -> String {
        guard !text.isEmpty, !text.hasSuffix("/"), !text.contains(where: { "+#\u{0}".contains($0) }) else {
            throw .invalid(value: text, expected: "a topic prefix without wildcards or a trailing '/'")
        }
        return text
    }

    /// Expands a comma-separated list of IPv4 addresses and inclusive ranges, e.g.
    /// `127.0.1.1-127.0.1.50,127.0.2.7`, in order. A range may span octets; at most 65,536 addresses.
    public static func sourceIPs(_ text: String) throws(BenchOptionError) -> [String] {
        var result: [String] = []
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "-", omittingEmptySubsequences: false)
            guard pieces.count == 1 || pieces.count == 2 else {
                throw .invalid(value: String(part), expected: "an IPv4 address or a range A-B")
            }
            let first = try ipv4(String(pieces[0]))
            let last = pieces.count == 2 ? try ipv4(String(pieces[1])) : first
            guard first <= last else { throw .invalid(value: String(part), expected: "a range whose start <= end") }
            guard result.count + Int(last - first) < 65_536 else {
                throw .invalid(value: text, expected: "at most 65,536 source addresses")
            }
            for value in first...last { result.append(dotted(value)) }
        }
        guard !result.isEmpty else { throw .invalid(value: text, expected: "at least one address") }
        return result
    }

    /// Reads a duration: `250ms`, `5s`, `10m`, `2h`, or bare seconds (`1.5`). Returns seconds.
    public static func seconds(_ text: String) throws(BenchOptionError) -> Double {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let value = Double(text.dropLast(suffix.count)), value >= 0, value.isFinite { return value * factor }
            throw .invalid(value: text, expected: "a duration like 250ms, 5s, 10m, 2h")
        }
        guard let value = Double(text), value >= 0, value.isFinite else {
            throw .invalid(value: text, expected: "a duration like 250ms, 5s, 10m, 2h")
        }
        return value
    }

    /// Reads a dotted-quad IPv4 address into its 32-bit value.
    static func ipv4(_ text: String) throws(BenchOptionError) -> UInt32 {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { throw .invalid(value: text, expected: "a dotted IPv4 address") }
        var value: UInt32 = 0
        for octet in octets {
            guard let byte = UInt8(octet) else { throw .invalid(value: text, expected: "a dotted IPv4 address") }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    /// Formats a 32-bit value as a dotted-quad IPv4 address.
    static func dotted(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

/// A host and port to connect to or bind.
public struct BenchEndpoint: Sendable, Equatable {
    /// An IP literal or a host name.
    public var host: String
    /// The TCP port.
    public var port: Int

    /// Builds an endpoint.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// A command-line value the load generator cannot use, with what it expected.
public enum BenchOptionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `value` is not `expected`.
    case invalid(value: String, expected: String)

    /// One line for a person: the bad value and what would work.
    public var description: String {
        switch self {
        case .invalid(let value, let expected): return "invalid value '\(value)': expected \(expected)"
        }
    }
}
