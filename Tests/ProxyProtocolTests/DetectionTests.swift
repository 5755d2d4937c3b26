import ProxyProtocol
import Testing

@Suite("PROXY protocol detection")
struct DetectionTests {
    @Test("an MQTT CONNECT sent first is refused on its first byte")
    func connectFirst() {
        #expect(ProxyHeaderParser.parse([0x10]) == .invalid(.unrecognizedSignature(offset: 0, byte: 0x10)))
        #expect(
            ProxyHeaderParser.parse(mqttConnect) == .invalid(.unrecognizedSignature(offset: 0, byte: 0x10)))
        #expect(firstVerdict(mqttConnect).prefixLength == 1)
    }

    @Test("nothing received yet needs more data")
    func empty() {
        #expect(ProxyHeaderParser.parse([]) == .needMoreData)
        #expect(ProxyHeaderParser.parse([UInt8]()) == .needMoreData)
    }

    @Test("every first byte other than P and CR is refused at once", arguments: 0...255)
    func firstByte(byte: Int) {
        let value = UInt8(byte)
        let result = ProxyHeaderParser.parse([value])
        if value == UInt8(ascii: "P") || value == 0x0D {
            #expect(result == .needMoreData)
        } else {
            #expect(result == .invalid(.unrecognizedSignature(offset: 0, byte: value)))
        }
    }

    @Test("a wrong byte anywhere in `PROXY ` is refused when it arrives")
    func v1PrefixMismatch() {
        let prefix = ascii("PROXY ")
        for index in 1..<prefix.count {
            var bytes = prefix + ascii("TCP4 1.2.3.4 5.6.7.8 1 2\r\n")
            bytes[index] = UInt8(ascii: "x")
            let verdict = firstVerdict(bytes)
            #expect(verdict.prefixLength == index + 1)
            #expect(verdict.result == .invalid(.unrecognizedSignature(offset: index, byte: UInt8(ascii: "x"))))
        }
        // Lowercase and TLS/HTTP openers are not PROXY protocol.
        #expect(ProxyHeaderParser.parse(ascii("proxy ")) == .invalid(.unrecognizedSignature(offset: 0, byte: 0x70)))
        #expect(ProxyHeaderParser.parse(ascii("GET / ")) == .invalid(.unrecognizedSignature(offset: 0, byte: 0x47)))
        #expect(ProxyHeaderParser.parse([0x16, 0x03, 0x01]) == .invalid(.unrecognizedSignature(offset: 0, byte: 0x16)))
        #expect(ProxyHeaderParser.parse(ascii("PROXY\r\n")) == .invalid(.unrecognizedSignature(offset: 5, byte: 0x0D)))
    }

    @Test("a wrong byte anywhere in the v2 signature is refused when it arrives")
    func v2SignatureMismatch() {
        let header = v2Header(0x21, 0x11, [UInt8](repeating: 0, count: 12))
        for index in 1..<12 {
            var bytes = header
            bytes[index] ^= 0x40
            let verdict = firstVerdict(bytes)
            #expect(verdict.prefixLength == index + 1)
            #expect(verdict.result == .invalid(.unrecognizedSignature(offset: index, byte: bytes[index])))
        }
        // A bare CRLF CRLF (an HTTP-ish blank line) followed by data is not the signature.
        #expect(firstVerdict(ascii("\r\n\r\nGET")).result == .invalid(.unrecognizedSignature(offset: 4, byte: 0x47)))
    }

    @Test("errors read as one line naming the rule")
    func descriptions() {
        #expect(
            ProxyHeaderError.unrecognizedSignature(offset: 0, byte: 0x10).description
                == "byte 0 (0x10) is not part of a PROXY protocol v1 or v2 signature")
        #expect(ProxyHeaderError.v1LineTooLong(limit: 107).description == "PROXY v1 line has no CRLF within 107 bytes")
        #expect(
            ProxyHeaderError.v2TooLong(length: 5000, limit: 4112).description
                == "PROXY v2 header of 5000 bytes exceeds the limit of 4112")
    }
}

extension DetectionTests {
    static let everyError: [ProxyHeaderError] = [
        .unrecognizedSignature(offset: 3, byte: 0xFF), .v1LineTooLong(limit: 107), .v1BadLineEnding(offset: 9),
        .v1UnknownProtocol("UDP4"), .v1BadSeparator(offset: 10), .v1MissingField("source port"),
        .v1ExtraField(offset: 40), .v1InvalidAddress(field: "source address", value: "1.2.3"),
        .v1InvalidPort(field: "destination port", value: "65536"), .v2UnsupportedVersion(3),
        .v2UnsupportedCommand(2), .v2UnsupportedFamily(0x13), .v2TooLong(length: 9000, limit: 4112),
        .v2AddressBlockTooShort(family: 0x11, length: 4, required: 12), .v2TruncatedTLV(offset: 28),
    ]

    @Test("every error describes itself in one line that names PROXY", arguments: everyError)
    func oneLine(error: ProxyHeaderError) {
        let text = error.description
        #expect(!text.contains("\n"))
        #expect(text.contains("PROXY"))
    }
}
