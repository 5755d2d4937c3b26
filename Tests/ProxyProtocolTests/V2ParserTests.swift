import ProxyProtocol
import Testing

@Suite("PROXY v2 parser, valid headers")
struct V2ParserTests {
    static let ipv4Block: [UInt8] = [192, 0, 2, 1, 198, 51, 100, 7, 0xDB, 0xFC, 0x07, 0x5B]  // ports 56316, 1883
    static let ipv6Block: [UInt8] =
        [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [5]  // 2001:db8::5
        + [UInt8](repeating: 0, count: 15) + [1]  // ::1
        + [0x00, 0x50, 0x22, 0xB3]  // ports 80, 8883

    static let tcp4 = ProxyHeader(
        version: 2, command: .proxy,
        source: ProxyAddress(ip: "192.0.2.1", port: 56316),
        destination: ProxyAddress(ip: "198.51.100.7", port: 1883))
    static let tcp6 = ProxyHeader(
        version: 2, command: .proxy,
        source: ProxyAddress(ip: "2001:db8::5", port: 80),
        destination: ProxyAddress(ip: "::1", port: 8883))

    @Test("PROXY over TCP/IPv4 (0x21 0x11, length 12)")
    func tcp4() {
        expectByteByByte(v2Header(0x21, 0x11, Self.ipv4Block), parsesTo: Self.tcp4)
    }

    @Test("PROXY over TCP/IPv6 (0x21 0x21, length 36)")
    func tcp6() {
        expectByteByByte(v2Header(0x21, 0x21, Self.ipv6Block), parsesTo: Self.tcp6)
    }

    @Test("LOCAL with UNSPEC and no addresses, as health checks send it")
    func local() {
        expectByteByByte(v2Header(0x20, 0x00, []), parsesTo: ProxyHeader(version: 2, command: .local))
    }

    @Test("TLVs after the addresses are read in order, including empty ones")
    func tlvs() {
        let body = Self.ipv4Block + tlv(0x02, ascii("broker.example")) + tlv(0x04, []) + tlv(0x05, [1, 2, 3])
        var expected = Self.tcp4
        expected.tlvs = [
            ProxyTLV(type: ProxyTLV.authority, value: ascii("broker.example")),
            ProxyTLV(type: ProxyTLV.noop, value: []),
            ProxyTLV(type: ProxyTLV.uniqueID, value: [1, 2, 3]),
        ]
        expectByteByByte(v2Header(0x21, 0x11, body), parsesTo: expected)
    }

    @Test("LOCAL over UNSPEC: the whole block is TLVs")
    func localTLVs() {
        let expected = ProxyHeader(version: 2, command: .local, tlvs: [ProxyTLV(type: 0xE0, value: [9])])
        expectByteByByte(v2Header(0x20, 0x00, tlv(0xE0, [9])), parsesTo: expected)
    }

    @Test("LOCAL ignores the family: addresses are discarded, and may be left out")
    func localIgnoresFamily() {
        expectByteByByte(v2Header(0x20, 0x11, Self.ipv4Block), parsesTo: ProxyHeader(version: 2, command: .local))
        expectByteByByte(v2Header(0x20, 0x21, []), parsesTo: ProxyHeader(version: 2, command: .local))
        let tlvOnly = ProxyHeader(version: 2, command: .local, tlvs: [ProxyTLV(type: 1, value: ascii("mqtt"))])
        expectByteByByte(v2Header(0x20, 0x11, tlv(1, ascii("mqtt"))), parsesTo: tlvOnly)
    }

    static let fallbackFamilies: [(UInt8, Int)] = [(0x00, 0), (0x12, 12), (0x22, 36), (0x31, 216), (0x32, 216)]

    @Test(
        "PROXY over UNSPEC, UDP or UNIX falls back to no addresses (§2.2), TLVs still read", arguments: fallbackFamilies
    )
    func fallback(family: UInt8, blockLength: Int) {
        let body = [UInt8](repeating: 0xAB, count: blockLength) + tlv(0x30, ascii("ns"))
        let expected = ProxyHeader(
            version: 2, command: .proxy, tlvs: [ProxyTLV(type: ProxyTLV.netns, value: ascii("ns"))])
        expectByteByByte(v2Header(0x21, family, body), parsesTo: expected)
    }

    @Test("the length tells where the client's bytes start, even far past the addresses")
    func payloadOffset() {
        let header = v2Header(0x21, 0x11, Self.ipv4Block + tlv(0x04, [UInt8](repeating: 0, count: 300)))
        #expect(
            ProxyHeaderParser.parse(header + mqttConnect)
                == .complete(
                    Self.tcp4.with(tlvs: [
                        ProxyTLV(type: 4, value: [UInt8](repeating: 0, count: 300))
                    ]), length: 16 + 12 + 303))
    }

    @Test("the length cap is a parameter; exactly the cap is accepted")
    func capBoundary() {
        let body = Self.ipv4Block + tlv(0x04, [UInt8](repeating: 0, count: 4081))
        #expect(body.count == 4096)
        let header = v2Header(0x21, 0x11, body)
        guard case .complete(_, let length) = ProxyHeaderParser.parse(header) else {
            Issue.record("a 4112-byte header must be accepted by default")
            return
        }
        #expect(length == 4112)
        #expect(ProxyHeaderParser.parse(header, maxLength: 4111) == .invalid(.v2TooLong(length: 4112, limit: 4111)))
        let largest = v2Header(0x21, 0x11, Self.ipv4Block + tlv(0x04, [UInt8](repeating: 0, count: 65520)))
        #expect(largest.count == 16 + 65535)
        guard case .complete = ProxyHeaderParser.parse(largest, maxLength: 16 + 65535) else {
            Issue.record("the format's largest header must be accepted under a 65,551-byte cap")
            return
        }
    }
}

extension ProxyHeader {
    /// A copy with other TLVs.
    func with(tlvs: [ProxyTLV]) -> ProxyHeader {
        var copy = self
        copy.tlvs = tlvs
        return copy
    }
}
