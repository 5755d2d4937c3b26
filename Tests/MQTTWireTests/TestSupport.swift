import MQTTWire
import Testing

/// A generous limit for tests that are not about size.
let testMaxPacketSize = 1 << 20

/// The UTF-8 bytes of `string`, for writing packets by hand.
func utf8(_ string: String) -> [UInt8] {
    Array(string.utf8)
}

/// Parses `bytes` with `maxPacketSize`.
func parse(_ bytes: [UInt8], maxPacketSize: Int = testMaxPacketSize) -> MQTTConnectParseResult {
    MQTTConnectParser.parse(bytes, maxPacketSize: maxPacketSize)
}

/// Feeds `bytes` one byte at a time: every proper prefix must be `needMoreData`, the whole must be `expected`.
func expectByteByByte(
    _ bytes: [UInt8], parsesTo expected: MQTTConnect, sourceLocation: SourceLocation = #_sourceLocation
) {
    for count in 0..<bytes.count {
        let result = parse(Array(bytes[0..<count]))
        #expect(result == .needMoreData, "prefix of \(count) bytes", sourceLocation: sourceLocation)
    }
    #expect(parse(bytes) == .complete(expected, length: bytes.count), sourceLocation: sourceLocation)
}

/// The shortest prefix of `bytes` on which the parser stops answering `needMoreData`, and its answer.
func firstVerdict(
    _ bytes: [UInt8], maxPacketSize: Int = testMaxPacketSize
) -> (prefixLength: Int, result: MQTTConnectParseResult) {
    for count in 0...bytes.count {
        let result = parse(Array(bytes[0..<count]), maxPacketSize: maxPacketSize)
        if result != .needMoreData { return (count, result) }
    }
    return (bytes.count, .needMoreData)
}

/// Builds a CONNECT by hand from its variable header and payload: fixed header `0x10`, 1-byte Remaining Length.
func connectPacket(_ parts: [UInt8]...) -> [UInt8] {
    let body = parts.flatMap { $0 }
    precondition(body.count < 128, "connectPacket writes a 1-byte Remaining Length")
    return [0x10, UInt8(body.count)] + body
}

/// `00 04 M Q T T <level>`: the MQTT 3.1.1 / 5.0 protocol name and level.
func mqttName(level: UInt8) -> [UInt8] {
    [0x00, 0x04] + utf8("MQTT") + [level]
}

/// A length-prefixed field (string or binary data) written by hand.
func field(_ bytes: [UInt8]) -> [UInt8] {
    [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny deterministic generator so fuzz runs repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
