import ProxyProtocol
import Testing

@Suite("PROXY v1 parser, valid lines")
struct V1ParserTests {
    static func tcp(_ source: String, _ sourcePort: Int, _ destination: String, _ destinationPort: Int) -> ProxyHeader {
        ProxyHeader(
            version: 1, command: .proxy,
            source: ProxyAddress(ip: source, port: sourcePort),
            destination: ProxyAddress(ip: destination, port: destinationPort))
    }

    static let valid: [(String, ProxyHeader)] = [
        // §2.1 example line.
        ("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", tcp("192.168.0.1", 56324, "192.168.0.11", 443)),
        // §2.1 longest TCP4 line, 56 bytes.
        (
            "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
            tcp("255.255.255.255", 65535, "255.255.255.255", 65535)
        ),
        ("PROXY TCP4 0.0.0.0 10.0.0.1 0 1883\r\n", tcp("0.0.0.0", 0, "10.0.0.1", 1883)),
        ("PROXY TCP6 ::1 ::1 40000 8883\r\n", tcp("::1", 40000, "::1", 8883)),
        // Upper case and leading zeros in IPv6 groups are allowed on the wire and normalized (RFC 5952).
        ("PROXY TCP6 2001:DB8:0:0:0:0:0:5 2001:0db8::0005 1 2\r\n", tcp("2001:db8::5", 1, "2001:db8::5", 2)),
        ("PROXY TCP6 :: 1:: 1 2\r\n", tcp("::", 1, "1::", 2)),
        ("PROXY TCP6 ::ffff:192.0.2.1 ::ffff:c000:201 1 2\r\n", tcp("::ffff:192.0.2.1", 1, "::ffff:192.0.2.1", 2)),
        ("PROXY TCP6 1:0:0:2:0:0:0:3 1:0:0:2:3:0:0:4 1 2\r\n", tcp("1:0:0:2::3", 1, "1::2:3:0:0:4", 2)),
        ("PROXY TCP6 1:2:3:4:5:6:7:8 1:0:3:4:5:6:7:8 1 2\r\n", tcp("1:2:3:4:5:6:7:8", 1, "1:0:3:4:5:6:7:8", 2)),
        // §2.1 "UNKNOWN": short form, and anything up to the CRLF is ignored.
        ("PROXY UNKNOWN\r\n", ProxyHeader(version: 1, command: .local)),
        ("PROXY UNKNOWN 1.2.3.4 garbage  with  spaces\r\n", ProxyHeader(version: 1, command: .local)),
    ]

    @Test("valid lines parse byte by byte and whole", arguments: valid)
    func validLine(line: String, expected: ProxyHeader) {
        expectByteByByte(ascii(line), parsesTo: expected)
    }

    @Test("§2.1 longest TCP6 line (104 bytes) and worst-case UNKNOWN line (107 bytes) are accepted")
    func longestLines() {
        let full = Array(repeating: "ffff", count: 8).joined(separator: ":")
        let tcp6 = ascii("PROXY TCP6 \(full) \(full) 65535 65535\r\n")
        #expect(tcp6.count == 104)
        expectByteByByte(tcp6, parsesTo: Self.tcp(full, 65535, full, 65535))
        let unknown = ascii("PROXY UNKNOWN \(full) \(full) 65535 65535\r\n")
        #expect(unknown.count == 107)
        expectByteByByte(unknown, parsesTo: ProxyHeader(version: 1, command: .local))
    }

    @Test("the header length tells where the client's bytes start")
    func payloadOffset() {
        let line = ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n")
        let http = ascii("GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n")
        guard case .complete(_, let length) = ProxyHeaderParser.parse(line + http) else {
            Issue.record("expected a complete header")
            return
        }
        #expect(Array((line + http)[length...]) == http)
    }

    @Test("the buffer-pointer entry point answers like the array one")
    func rawBuffer() {
        let line = ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n")
        let result = line.withUnsafeBytes { ProxyHeaderParser.parse($0) }
        #expect(result == ProxyHeaderParser.parse(line))
        #expect(result == .complete(Self.tcp("1.2.3.4", 1, "5.6.7.8", 2), length: line.count))
    }
}
