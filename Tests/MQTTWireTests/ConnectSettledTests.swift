import MQTTWire
import Testing

/// `MQTTConnectParser.isSettled`: how a relay thread knows it has read enough of the first packet
/// to hand it over. It must agree with `parse` on every prefix: settled exactly
/// when `parse` stops asking for more data.
@Suite("CONNECT settled")
struct ConnectSettledTests {
    private func settled(_ bytes: [UInt8], max: Int = 4_096) -> Bool {
        bytes.withUnsafeBytes { MQTTConnectParser.isSettled($0, maxPacketSize: max) }
    }

    @Test(
        "fed byte by byte, a whole CONNECT is settled at its last byte, not before",
        arguments: [SpecPackets.v311Minimal, SpecPackets.v31, SpecPackets.v311Full])
    func wholePacket(packet: [UInt8]) {
        for end in 0..<packet.count {
            #expect(!settled(Array(packet.prefix(end))), "prefix of \(end) bytes")
        }
        #expect(settled(packet))
        #expect(settled(packet + [0xC0, 0x00]), "a PINGREQ pipelined behind it")
    }

    @Test("not a CONNECT, bad flags, a five-byte length or a packet over the limit are settled at once")
    func settledEarly() {
        #expect(settled([0x47]), "an HTTP request's first byte")
        #expect(settled([0x12]), "CONNECT with reserved flags")
        #expect(settled([0x10, 0xFF, 0xFF, 0xFF, 0xFF]), "five-byte remaining length")
        #expect(settled([0x10, 0x80, 0x08], max: 512), "1,024 bytes announced, 512 allowed")
        #expect(!settled([0x10, 0x80]), "the length is still arriving")
        #expect(!settled([]))
    }

    @Test("settled agrees with parse on every prefix of random byte strings")
    func agreesWithParse() {
        var random = SplitMix64(seed: 0x5E77_1ED)
        for _ in 0..<2_000 {
            var bytes = [UInt8(0x10)]
            for _ in 0..<Int(random.next() % 40) { bytes.append(UInt8(truncatingIfNeeded: random.next())) }
            for end in 0...bytes.count {
                let prefix = Array(bytes.prefix(end))
                let needMore = parse(prefix, maxPacketSize: 64) == .needMoreData
                if needMore {
                    #expect(!settled(prefix, max: 64), "\(prefix)")
                }
            }
        }
    }
}
