/// Builds PROXY protocol headers for the front to send to a broker ahead of a client's bytes
/// (HAProxy's doc/proxy-protocol.txt), so the broker sees the client's address instead of the front's.
///
/// Total functions: an address that is not IPv4 or IPv6 text (a host name, a zone such as `fe80::1%eth0`) or a
/// port outside 0...65535 does not trap; the header then says the addresses are unknown (v1 `UNKNOWN`, v2
/// PROXY over AF_UNSPEC), which §2.1 and §2.2 prescribe "when it is not possible to correctly fill" it. When one
/// address is IPv4 and the other IPv6, the IPv4 one is sent IPv4-mapped (`::ffff:a.b.c.d`) in an IPv6 header,
/// as HAProxy does. Callable from any thread.
public enum ProxyHeaderEncoder {
    /// §2.1: `PROXY TCP4|TCP6 src dst sport dport\r\n`, or `PROXY UNKNOWN\r\n` when the addresses do not fit.
    public static func v1(source: ProxyAddress, destination: ProxyAddress) -> [UInt8] {
        guard let pair = binaryPair(source: source, destination: destination) else {
            return Array("PROXY UNKNOWN\r\n".utf8)
        }
        let family = pair.source.count == 4 ? "TCP4" : "TCP6"
        let fields = [
            "PROXY", family, IPAddressText.format(pair.source), IPAddressText.format(pair.destination),
            String(source.port), String(destination.port),
        ]
        return Array((fields.joined(separator: " ") + "\r\n").utf8)
    }

    /// §2.2: signature, `0x21` (version 2, PROXY), `0x11` TCP/IPv4 or `0x21` TCP/IPv6, the length, then the
    /// addresses and ports in network byte order. No TLVs. When the addresses do not fit: family `0x00` and
    /// length 0, which receivers treat as "use the real connection's endpoints".
    public static func v2(source: ProxyAddress, destination: ProxyAddress) -> [UInt8] {
        var header = ProxyHeaderParser.v2Signature + [0x21]
        guard let pair = binaryPair(source: source, destination: destination) else {
            return header + [0x00, 0x00, 0x00]
        }
        let isIPv4 = pair.source.count == 4
        header += [isIPv4 ? 0x11 : 0x21, 0x00, isIPv4 ? 12 : 36]
        header += pair.source + pair.destination
        for port in [source.port, destination.port] {
            header += [UInt8(port >> 8), UInt8(port & 0xFF)]
        }
        return header
    }

    /// §2.2: a LOCAL header (`0x20`), family UNSPEC, length 0: the front's own connection, e.g. a health check,
    /// made on purpose and not on behalf of a client.
    public static func v2Local() -> [UInt8] {
        ProxyHeaderParser.v2Signature + [0x20, 0x00, 0x00, 0x00]
    }

    /// Both addresses as bytes of one family (4 or 16 each), or nil when either address or port is unusable.
    private static func binaryPair(
        source: ProxyAddress, destination: ProxyAddress
    ) -> (source: [UInt8], destination: [UInt8])? {
        let ports = 0...65535
        guard ports.contains(source.port), ports.contains(destination.port),
            let from = binary(source.ip), let to = binary(destination.ip)
        else { return nil }
        if from.count == to.count { return (from, to) }
        return (mapped(from), mapped(to))
    }

    /// The bytes of IPv4 or IPv6 text, in the strict forms the parser accepts.
    private static func binary(_ text: String) -> [UInt8]? {
        IPAddressText.ipv4(text.utf8) ?? IPAddressText.ipv6(text.utf8)
    }

    /// RFC 4291 §2.5.5.2: an IPv4 address as the IPv6 address `::ffff:a.b.c.d`; IPv6 bytes pass unchanged.
    private static func mapped(_ address: [UInt8]) -> [UInt8] {
        address.count == 4 ? [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + address : address
    }
}
