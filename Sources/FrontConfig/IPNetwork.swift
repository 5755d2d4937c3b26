#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IPv4 or IPv6 network written as CIDR (`10.0.0.0/8`, `2001:db8::/32`; a bare address is one
/// host), as `accept_proxy_protocol.trusted` lists them. Host bits written past the prefix are
/// ignored, as HAProxy does. IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`, a dual-stack listener's
/// IPv4 clients) match IPv4 networks. Value type; matching is pure and allocation-light.
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    /// The network's address bytes (4 or 16), host bits cleared.
    public let address: [UInt8]
    /// Leading bits that must match.
    public let prefixLength: Int

    /// Parses `10.0.0.0/8`, `127.0.0.1` (a /32), `::1/128`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = Self.bytes(of: String(parts[0]), unmappingIPv4: false) else { return nil }
        let bits = bytes.count * 8
        var length = bits
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...bits).contains(value), parts[1].allSatisfy(\.isASCII) else {
                return nil
            }
            length = value
        }
        self.prefixLength = length
        self.address = Self.masked(bytes, to: length)
    }

    /// Whether `ip` (text as a socket reports it) lies in this network.
    public func contains(_ ip: String) -> Bool {
        guard let bytes = Self.bytes(of: ip, unmappingIPv4: address.count == 4), bytes.count == address.count else {
            return false
        }
        return Self.masked(bytes, to: prefixLength) == address
    }

    public var description: String {
        let family = address.count == 4 ? AF_INET : AF_INET6
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let written = address.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        guard written != nil else { return "?/\(prefixLength)" }
        let ip = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(ip)/\(prefixLength)"
    }

    /// The 4 or 16 bytes of an address's text (inet_pton); with `unmappingIPv4`, the IPv4 address
    /// inside an IPv4-mapped IPv6 one.
    static func bytes(of text: String, unmappingIPv4: Bool) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        let mapped = bytes.prefix(10).allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
        return unmappingIPv4 && mapped ? Array(bytes.suffix(4)) : bytes
    }

    private static func masked(_ bytes: [UInt8], to length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let kept = min(max(length - index * 8, 0), 8)
            return kept == 8 ? byte : byte & ~(UInt8(0xff) >> kept)
        }
    }
}
