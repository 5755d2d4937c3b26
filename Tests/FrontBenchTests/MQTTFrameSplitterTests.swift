import FrontBench
import MQTTWire
import Testing

@Suite struct MQTTFrameSplitterTests {
    @Test func findsAWholePacketAndIgnoresTheRest() {
        let bytes = MQTTPacket.pingReq + [0x30, 0x05]
        #expect(MQTTFrameSplitter.next(bytes) == .packet(header: 0xC0, bodyOffset: 2, totalLength: 2))
    }

    @Test func needsMoreUntilTheLastByte() {
        let packet = BenchPackets.publish(
            topic: "bench/1", sentAt: 42, payloadSize: 200, qos: 0, packetID: 0, version: .v3_1_1)
        // 200-byte payload: the Remaining Length takes two bytes, so byte-by-byte feeding crosses the varint.
        for count in 0..<packet.count {
            #expect(MQTTFrameSplitter.next(Array(packet[..<count])) == .needMoreData)
        }
        #expect(MQTTFrameSplitter.next(packet) == .packet(header: 0x30, bodyOffset: 3, totalLength: packet.count))
    }

    @Test func rejectsAFiveByteRemainingLength() {
        #expect(MQTTFrameSplitter.next([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) == .malformed)
    }
}
