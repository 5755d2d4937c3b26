import ProxyProtocol
import Testing

@Suite("PROXY v2 parser, invalid headers")
struct V2InvalidTests {
    @Test("version nibble other than 2 is refused on byte 13", arguments: [0x0, 0x1, 0x3, 0xF] as [UInt8])
    func version(nibble: UInt8) {
        let verdict = firstVerdict(v2Header(nibble << 4 | 1, 0x11, V2ParserTests.ipv4Block))
        #expect(verdict.prefixLength == 13)
        #expect(verdict.result == .invalid(.v2UnsupportedVersion(nibble)))
    }

    @Test("command other than LOCAL or PROXY is refused on byte 13", arguments: Array(2...15) as [UInt8])
    func command(nibble: UInt8) {
        let verdict = firstVerdict(v2Header(0x20 | nibble, 0x11, V2ParserTests.ipv4Block))
        #expect(verdict.prefixLength == 13)
        #expect(verdict.result == .invalid(.v2UnsupportedCommand(nibble)))
    }

    static let defined: Set<UInt8> = [0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32]

    @Test("undefined family/transport bytes are refused on byte 14, for PROXY and LOCAL")
    func family() {
        for family in 0...255 where !Self.defined.contains(UInt8(family)) {
            for command: UInt8 in [0x20, 0x21] {
                let verdict = firstVerdict(v2Header(command, UInt8(family), []))
                #expect(verdict.prefixLength == 14)
                #expect(verdict.result == .invalid(.v2UnsupportedFamily(UInt8(family))))
            }
        }
    }

    @Test("an announced length past the cap is refused on byte 16, before the body arrives")
    func tooLong() {
        let verdict = firstVerdict(v2Header(0x21, 0x11, [], length: 4097))
        #expect(verdict.prefixLength == 16)
        #expect(verdict.result == .invalid(.v2TooLong(length: 4113, limit: 4112)))
        let custom = firstVerdict(v2Header(0x21, 0x11, [], length: 0xFFFF), maxLength: 16 + 0xFFFE)
        #expect(custom.result == .invalid(.v2TooLong(length: 16 + 0xFFFF, limit: 16 + 0xFFFE)))
        // A cap below the smallest header refuses everything once the length is known.
        #expect(
            ProxyHeaderParser.parse(v2Header(0x20, 0x00, []), maxLength: 15)
                == .invalid(.v2TooLong(length: 16, limit: 15)))
    }

    static let shortBlocks: [(UInt8, Int, Int)] = [
        (0x11, 11, 12), (0x11, 0, 12), (0x21, 35, 36), (0x21, 12, 36), (0x31, 215, 216), (0x12, 4, 12),
    ]

    @Test("a PROXY length below the family's address block is refused on byte 16", arguments: shortBlocks)
    func shortAddressBlock(family: UInt8, length: Int, required: Int) {
        let verdict = firstVerdict(v2Header(0x21, family, [UInt8](repeating: 0, count: length)))
        #expect(verdict.prefixLength == 16)
        #expect(verdict.result == .invalid(.v2AddressBlockTooShort(family: family, length: length, required: required)))
    }

    static let truncatedTLVs: [([UInt8], Int)] = [
        ([0x01], 28),  // type only
        ([0x01, 0x00], 28),  // type and half a length
        ([0x01, 0x00, 0x02, 0xAA], 28),  // value one byte short
        (tlv(0x04, []) + [0x02, 0x00, 0x05, 1, 2, 3, 4], 31),  // second TLV short
        ([0x01, 0xFF, 0xFF], 28),  // length far past the header
    ]

    @Test("a TLV running past the header's end makes it invalid", arguments: truncatedTLVs)
    func truncatedTLV(tlvBytes: [UInt8], offset: Int) {
        let header = v2Header(0x21, 0x11, V2ParserTests.ipv4Block + tlvBytes)
        let verdict = firstVerdict(header)
        #expect(verdict.result == .invalid(.v2TruncatedTLV(offset: offset)))
        // Decided once the whole announced header is in, as §2.2 asks.
        #expect(verdict.prefixLength == header.count)
    }

    @Test("LOCAL TLVs are parsed strictly too")
    func localTruncatedTLV() {
        #expect(ProxyHeaderParser.parse(v2Header(0x20, 0x00, [0x04, 0x00])) == .invalid(.v2TruncatedTLV(offset: 16)))
    }
}
