import Testing

@testable import ProxyProtocol

@Suite("IP address text")
struct IPAddressTextTests {
    static let ipv6Forms: [(String, String)] = [
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        // RFC 5952 §4.2.2: a single zero group is not shortened.
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        // RFC 5952 §4.2.3: the longest run wins; on a tie, the first.
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("0:0:1:0:0:1:0:0", "::1:0:0:1:0:0"),
        ("1:0:0:0:0:0:0:0", "1::"),
        // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad; others do not.
        ("::ffff:c000:0201", "::ffff:192.0.2.1"),
        ("::ffff:0.0.0.0", "::ffff:0.0.0.0"),
        ("::192.0.2.1", "::c000:201"),
        ("64:ff9b::192.0.2.1", "64:ff9b::c000:201"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ]

    @Test("IPv6 text is read and written back in RFC 5952 form", arguments: ipv6Forms)
    func ipv6(text: String, canonical: String) {
        guard let bytes = IPAddressText.ipv6(text.utf8) else {
            Issue.record("\(text) should parse")
            return
        }
        #expect(bytes.count == 16)
        #expect(IPAddressText.format(bytes) == canonical)
        #expect(IPAddressText.ipv6(canonical.utf8) == bytes)
    }

    static let badIPv6 = [
        "", ":", ":::", "1", "1:2", "::1::", "1:::2", "12345::1", "::g", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::",
        "::1.2.3", "::1.2.3.4.5", "1.2.3.4::", "::ffff:1.2.3.4:1", "fe80::1%1", " ::1", "::1 ",
        "1:2:3:4:5:6:7:1.2.3.4", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555",
    ]

    @Test("bad IPv6 text is refused", arguments: badIPv6)
    func badIPv6Text(text: String) {
        #expect(IPAddressText.ipv6(text.utf8) == nil)
    }

    static let badIPv4 = [
        "", ".", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1.2.3.4.5", "256.0.0.0", "00.0.0.0", "01.2.3.4", "1.2.3.-4",
        "1.2.3.4 ", "1,2,3,4", "1.2.3.0x4", "1111.2.3.4", "0.0.0.0000",
    ]

    @Test("bad IPv4 text is refused", arguments: badIPv4)
    func badIPv4Text(text: String) {
        #expect(IPAddressText.ipv4(text.utf8) == nil)
    }

    @Test("IPv4 edge values")
    func ipv4Edges() {
        #expect(IPAddressText.ipv4("0.0.0.0".utf8) == [0, 0, 0, 0])
        #expect(IPAddressText.ipv4("255.255.255.255".utf8) == [255, 255, 255, 255])
        #expect(IPAddressText.ipv4("10.0.100.9".utf8) == [10, 0, 100, 9])
        #expect(IPAddressText.format([10, 0, 100, 9]) == "10.0.100.9")
    }

    @Test("every 16-bit group value survives a round trip")
    func everyGroup() {
        for value in stride(from: 0, through: 0xFFFF, by: 7) {
            let bytes =
                [UInt8(value >> 8), UInt8(value & 0xFF)] + [UInt8](repeating: 0, count: 12)
                + [UInt8(value & 0xFF), UInt8(value >> 8)]
            #expect(IPAddressText.ipv6(IPAddressText.format(bytes).utf8) == bytes)
        }
    }
}
