import ProxyProtocol
import Testing

@Suite("PROXY header encoder")
struct EncoderTests {
    static let pairs: [(ProxyAddress, ProxyAddress)] = [
        (ProxyAddress(ip: "192.0.2.1", port: 56316), ProxyAddress(ip: "198.51.100.7", port: 1883)),
        (ProxyAddress(ip: "0.0.0.0", port: 0), ProxyAddress(ip: "255.255.255.255", port: 65535)),
        (ProxyAddress(ip: "2001:db8::5", port: 80), ProxyAddress(ip: "::1", port: 8883)),
        (ProxyAddress(ip: "::", port: 1), ProxyAddress(ip: "fe80::1:2:3:4", port: 2)),
        (ProxyAddress(ip: "1:2:3:4:5:6:7:8", port: 65535), ProxyAddress(ip: "::ffff:10.0.0.1", port: 1)),
    ]

    @Test("v1 round trip: the parser reads back what the encoder wrote", arguments: pairs)
    func v1RoundTrip(source: ProxyAddress, destination: ProxyAddress) {
        let bytes = ProxyHeaderEncoder.v1(source: source, destination: destination)
        let expected = ProxyHeader(version: 1, command: .proxy, source: source, destination: destination)
        expectByteByByte(bytes, parsesTo: expected)
    }

    @Test("v2 round trip: the parser reads back what the encoder wrote", arguments: pairs)
    func v2RoundTrip(source: ProxyAddress, destination: ProxyAddress) {
        let bytes = ProxyHeaderEncoder.v2(source: source, destination: destination)
        let expected = ProxyHeader(version: 2, command: .proxy, source: source, destination: destination)
        expectByteByByte(bytes, parsesTo: expected)
    }

    @Test("v1 bytes match §2.1 exactly")
    func v1Bytes() {
        let line = ProxyHeaderEncoder.v1(
            source: ProxyAddress(ip: "192.168.0.1", port: 56324),
            destination: ProxyAddress(ip: "192.168.0.11", port: 443))
        #expect(line == ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"))
        let six = ProxyHeaderEncoder.v1(
            source: ProxyAddress(ip: "2001:DB8:0:0::5", port: 1), destination: ProxyAddress(ip: "::1", port: 2))
        #expect(six == ascii("PROXY TCP6 2001:db8::5 ::1 1 2\r\n"))
    }

    @Test("v2 bytes match §2.2 exactly")
    func v2Bytes() {
        let header = ProxyHeaderEncoder.v2(
            source: ProxyAddress(ip: "192.0.2.1", port: 56316),
            destination: ProxyAddress(ip: "198.51.100.7", port: 1883))
        #expect(header == v2Header(0x21, 0x11, V2ParserTests.ipv4Block))
        let six = ProxyHeaderEncoder.v2(
            source: ProxyAddress(ip: "2001:db8::5", port: 80), destination: ProxyAddress(ip: "::1", port: 8883))
        #expect(six == v2Header(0x21, 0x21, V2ParserTests.ipv6Block))
        #expect(six.count == 16 + 36)
    }

    @Test("v2Local is LOCAL over UNSPEC with no body, and parses back")
    func v2Local() {
        #expect(ProxyHeaderEncoder.v2Local() == v2Signature + [0x20, 0x00, 0x00, 0x00])
        expectByteByByte(ProxyHeaderEncoder.v2Local(), parsesTo: ProxyHeader(version: 2, command: .local))
    }

    @Test("mixed families are sent IPv4-mapped in an IPv6 header")
    func mixedFamilies() {
        let source = ProxyAddress(ip: "192.0.2.1", port: 1)
        let destination = ProxyAddress(ip: "2001:db8::1", port: 2)
        let mapped = ProxyAddress(ip: "::ffff:192.0.2.1", port: 1)
        #expect(
            ProxyHeaderEncoder.v1(source: source, destination: destination)
                == ascii("PROXY TCP6 ::ffff:192.0.2.1 2001:db8::1 1 2\r\n"))
        #expect(
            ProxyHeaderParser.parse(ProxyHeaderEncoder.v2(source: destination, destination: source))
                == .complete(
                    ProxyHeader(version: 2, command: .proxy, source: destination, destination: mapped), length: 52))
    }

    static let unusable: [(ProxyAddress, ProxyAddress)] = [
        (ProxyAddress(ip: "fe80::1%eth0", port: 1), ProxyAddress(ip: "::1", port: 2)),
        (ProxyAddress(ip: "broker.local", port: 1), ProxyAddress(ip: "10.0.0.1", port: 2)),
        (ProxyAddress(ip: "10.0.0.1", port: -1), ProxyAddress(ip: "10.0.0.2", port: 2)),
        (ProxyAddress(ip: "10.0.0.1", port: 1), ProxyAddress(ip: "10.0.0.2", port: 65536)),
        (ProxyAddress(ip: "", port: 1), ProxyAddress(ip: "10.0.0.2", port: 2)),
        (ProxyAddress(ip: "010.0.0.1", port: 1), ProxyAddress(ip: "10.0.0.2", port: 2)),
    ]

    @Test("unusable addresses or ports give an 'unknown' header instead of trapping", arguments: unusable)
    func unusableAddresses(source: ProxyAddress, destination: ProxyAddress) {
        let v1 = ProxyHeaderEncoder.v1(source: source, destination: destination)
        #expect(v1 == ascii("PROXY UNKNOWN\r\n"))
        #expect(ProxyHeaderParser.parse(v1) == .complete(ProxyHeader(version: 1, command: .local), length: 15))
        let v2 = ProxyHeaderEncoder.v2(source: source, destination: destination)
        #expect(v2 == v2Signature + [0x21, 0x00, 0x00, 0x00])
        #expect(ProxyHeaderParser.parse(v2) == .complete(ProxyHeader(version: 2, command: .proxy), length: 16))
    }
}
