import MQTTWire
import Testing

@Suite("Variable Byte Integer")
struct VarIntTests {
    /// MQTT 3.1.1 §2.2.3 table 2.4 boundaries.
    static let specBoundaries: [(Int, [UInt8])] = [
        (0, [0x00]), (127, [0x7F]),
        (128, [0x80, 0x01]), (16_383, [0xFF, 0x7F]),
        (16_384, [0x80, 0x80, 0x01]), (2_097_151, [0xFF, 0xFF, 0x7F]),
        (2_097_152, [0x80, 0x80, 0x80, 0x01]), (268_435_455, [0xFF, 0xFF, 0xFF, 0x7F]),
    ]

    @Test("encode and decode the spec's boundary values", arguments: specBoundaries)
    func specBoundary(value: Int, bytes: [UInt8]) {
        #expect(MQTTVarInt.encode(value) == bytes)
        #expect(MQTTVarInt.decode(bytes) == .value(value, length: bytes.count))
        #expect(MQTTVarInt.decode([0xAA] + bytes + [0xBB], from: 1) == .value(value, length: bytes.count))
    }

    @Test("incomplete, over-long and out-of-range input")
    func edges() {
        #expect(MQTTVarInt.decode([]) == .needMoreData)
        #expect(MQTTVarInt.decode([0x80, 0x80, 0x80]) == .needMoreData)
        #expect(MQTTVarInt.decode([0x80, 0x80, 0x80, 0x80]) == .malformed)
        #expect(MQTTVarInt.decode([0xFF, 0xFF, 0xFF, 0xFF, 0x01]) == .malformed)
        #expect(MQTTVarInt.decode([0x05], from: 1) == .needMoreData)
        #expect(MQTTVarInt.decode([0x05], from: 7) == .needMoreData)
        #expect(MQTTVarInt.decode([0x05], from: -1) == .malformed)
        let capped = [0x80, 0x01].withUnsafeBytes { MQTTVarInt.decode($0, from: 0, end: 1) }
        #expect(capped == .needMoreData)
    }
}
