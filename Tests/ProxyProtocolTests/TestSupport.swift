import ProxyProtocol
import Testing

/// The ASCII bytes of `text`, for writing v1 lines by hand.
func ascii(_ text: String) -> [UInt8] {
    Array(text.utf8)
}

/// The 12-byte v2 signature (proxy-protocol.txt §2.2).
let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

/// A v2 header written by hand: signature, version/command byte, family byte, then `body` behind its length
/// (or behind `length` when given, to build headers whose length lies).
func v2Header(_ versionAndCommand: UInt8, _ family: UInt8, _ body: [UInt8], length: Int? = nil) -> [UInt8] {
    let announced = length ?? body.count
    return v2Signature + [versionAndCommand, family, UInt8(announced >> 8), UInt8(announced & 0xFF)] + body
}

/// A TLV written by hand: type, 2-byte length, value.
func tlv(_ type: UInt8, _ value: [UInt8]) -> [UInt8] {
    [type, UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
}

/// An MQTT 3.1.1 CONNECT for client id "c": what a client that skips the PROXY header sends first.
let mqttConnect: [UInt8] = [0x10, 0x0D, 0x00, 0x04] + ascii("MQTT") + [0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, 0x63]

/// Feeds `bytes` one byte at a time: every strict prefix must need more data, the whole must be `expected`,
/// and so must the whole followed by a client's first packet (the payload is not the parser's business).
func expectByteByByte(
    _ bytes: [UInt8], parsesTo expected: ProxyHeader, sourceLocation: SourceLocation = #_sourceLocation
) {
    for count in 0..<bytes.count {
        let result = ProxyHeaderParser.parse(Array(bytes[0..<count]))
        #expect(result == .needMoreData, "prefix of \(count) bytes", sourceLocation: sourceLocation)
    }
    let complete = ProxyHeaderParseResult.complete(expected, length: bytes.count)
    #expect(ProxyHeaderParser.parse(bytes) == complete, sourceLocation: sourceLocation)
    #expect(ProxyHeaderParser.parse(bytes + mqttConnect) == complete, sourceLocation: sourceLocation)
}

/// The shortest prefix of `bytes` on which the parser stops answering `needMoreData`, and its answer.
func firstVerdict(
    _ bytes: [UInt8], maxLength: Int = ProxyHeaderParser.defaultMaxLength
) -> (prefixLength: Int, result: ProxyHeaderParseResult) {
    for count in 0...bytes.count {
        let result = ProxyHeaderParser.parse(Array(bytes[0..<count]), maxLength: maxLength)
        if result != .needMoreData { return (count, result) }
    }
    return (bytes.count, .needMoreData)
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
