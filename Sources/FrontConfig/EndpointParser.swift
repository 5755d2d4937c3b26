#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads `host:port` and `[ipv6]:port` addresses and IP literals as the configuration spells them.
///
/// Binds must be IP literals (a listening socket binds an address, not a name; resolving at start-up would
/// hide typos until a reload); server addresses may also be DNS names, resolved when dialling. IP literals are
/// checked with `inet_pton`, the same routine the kernel-facing code relies on, so anything accepted here
/// binds. Pure functions; safe from any thread.
public enum EndpointParser {
    /// Parses a listen address: an IPv4 or bracketed IPv6 literal and a port 0...65535 (0 = any free port).
    public static func parseBind(_ text: String) throws(ConfigValueError) -> Endpoint {
        let (host, portText) = try split(text)
        guard isIPv4(host) || isIPv6(host) else {
            throw ConfigValueError(
                "`\(text)`: a bind needs an IP address, not a host name, e.g. 0.0.0.0:1883 or [::]:1883")
        }
        return Endpoint(host: host, port: try port(portText, in: 0...65_535, text: text))
    }

    /// Parses a server address: an IPv4 literal, a bracketed IPv6 literal or a DNS name, and a port 1...65535.
    public static func parseServer(_ text: String) throws(ConfigValueError) -> Endpoint {
        let (host, portText) = try split(text)
        guard isIPv4(host) || isIPv6(host) || isHostName(host) else {
            if host.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
                throw ConfigValueError("`\(text)`: `\(host)` is not a valid IPv4 address")
            }
            throw ConfigValueError("`\(text)`: `\(host)` is neither an IP address nor a valid host name")
        }
        return Endpoint(host: host, port: try port(portText, in: 1...65_535, text: text))
    }

    /// Parses a bare IP literal (no port, no brackets), as used in `source_ips`.
    public static func parseIP(_ text: String) throws(ConfigValueError) -> String {
        let trimmed = text.trimmingSpaces()
        guard isIPv4(trimmed) || isIPv6(trimmed) else {
            throw ConfigValueError("`\(text)` is not an IP address (write e.g. 10.0.0.5 or fd00::5, without a port)")
        }
        return trimmed
    }

    /// Whether `text` is an IPv4 dotted quad (`inet_pton` rules: four decimal octets, no leading zeros).
    public static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return text.withCString { inet_pton(AF_INET, $0, &address) } == 1
    }

    /// Whether `text` is an IPv6 literal without brackets (`::1`, `fd00::5`, `::ffff:10.0.0.1`).
    public static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return text.withCString { inet_pton(AF_INET6, $0, &address) } == 1
    }

    /// Whether `text` is a loopback address: `127.0.0.0/8`, `::1`, an IPv4-mapped `::ffff:127.x.y.z`, or
    /// `localhost`. The wildcard addresses (`0.0.0.0`, `::`) are not: they listen on every interface.
    public static func isLoopback(_ text: String) -> Bool {
        let lowered = text.lowercased()
        if lowered == "localhost" || lowered == "::1" { return true }
        if isIPv4(lowered) { return lowered.hasPrefix("127.") }
        guard isIPv6(lowered) else { return false }
        var address = in6_addr()
        _ = lowered.withCString { inet_pton(AF_INET6, $0, &address) }
        let bytes = withUnsafeBytes(of: &address) { Array($0) }
        let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        let loopbackV6 = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
        return loopbackV6 || (mapped && bytes[12] == 127)
    }

    /// Whether `text` is a DNS host name: dot-separated labels of letters, digits, `-` and `_`, each 1...63
    /// characters and not starting or ending with `-`, at most 253 characters, not all digits.
    public static func isHostName(_ text: String) -> Bool {
        let name = text.hasSuffix(".") ? String(text.dropLast()) : text
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let validLabels = labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
        let lastLabelNumeric = labels.last?.allSatisfy { $0.isNumber } ?? true
        return validLabels && !lastLabelNumeric
    }

    /// Splits `host:port` / `[v6]:port` into the host (without brackets) and the port text.
    private static func split(_ raw: String) throws(ConfigValueError) -> (host: String, port: Substring) {
        let text = raw.trimmingSpaces()
        guard !text.isEmpty else { throw ConfigValueError("empty address; write HOST:PORT, e.g. 127.0.0.1:1883") }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ConfigValueError("`\(text)`: missing `]` after the IPv6 address")
            }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard isIPv6(host) else {
                throw ConfigValueError("`\(text)`: `\(host)` is not an IPv6 address (brackets are for IPv6 only)")
            }
            guard rest.hasPrefix(":") else {
                throw ConfigValueError("`\(text)`: missing port; write e.g. [\(host)]:1883")
            }
            return (host, rest.dropFirst())
        }
        let colons = text.count { $0 == ":" }
        if colons > 1 {
            throw ConfigValueError("`\(text)`: put IPv6 addresses in brackets, e.g. [::1]:1883")
        }
        guard colons == 1, let colon = text.firstIndex(of: ":") else {
            throw ConfigValueError("`\(text)`: missing port; write HOST:PORT, e.g. \(text):1883")
        }
        return (String(text[..<colon]), text[text.index(after: colon)...])
    }

    private static func port(
        _ text: Substring, in range: ClosedRange<Int>, text whole: String
    ) throws(ConfigValueError) -> Int {
        guard !text.isEmpty else { throw ConfigValueError("`\(whole)`: missing port after `:`") }
        guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ConfigValueError("`\(whole)`: port `\(text)` is not a number")
        }
        guard text.utf8.count <= 5, let port = Int(text), range.contains(port) else {
            throw ConfigValueError(
                "`\(whole)`: port `\(text)` is out of range; use \(range.lowerBound)...\(range.upperBound)")
        }
        return port
    }
}
