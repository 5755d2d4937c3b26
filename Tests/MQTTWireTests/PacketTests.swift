import MQTTWire
import Testing

@Suite("Fixed packets and minimal encoders")
struct PacketTests {
    @Test("PINGREQ, PINGRESP, DISCONNECT (3.1.1 §3.12–3.14)")
    func fixedPackets() {
        #expect(MQTTPacket.pingReq == [0xC0, 0x00])
        #expect(MQTTPacket.pingResp == [0xD0, 0x00])
        #expect(MQTTPacket.disconnect == [0xE0, 0x00])
    }

    @Test("a server's MQTT 5 DISCONNECT: reason code, then the Server Reference property (5.0 §3.14.2)")
    func serverDisconnect() {
        #expect(MQTTPacket.serverDisconnect(reasonCode: 0x8B, serverReference: nil) == [0xE0, 0x02, 0x8B, 0x00])
        #expect(MQTTPacket.serverDisconnect(reasonCode: 0x9C, serverReference: "") == [0xE0, 0x02, 0x9C, 0x00])
        let moved = MQTTPacket.serverDisconnect(reasonCode: 0x9C, serverReference: "b2:1883")
        #expect(moved == [0xE0, 0x0C, 0x9C, 0x0A, 0x1C, 0x00, 0x07] + Array("b2:1883".utf8))
        let long = MQTTPacket.serverDisconnect(reasonCode: 0x9C, serverReference: String(repeating: "x", count: 200))
        #expect(Array(long.prefix(5)) == [0xE0, 0xCE, 0x01, 0x9C, 0xCB])
        #expect(long.count == 3 + 1 + 2 + 1 + 2 + 200)
    }

    @Test("QoS 0 PUBLISH for 3.1.1 and 5.0 (§3.3)")
    func publish() {
        #expect(MQTTPacket.publish(topic: "a/b", payload: [1, 2]) == [0x30, 0x07, 0x00, 0x03, 0x61, 0x2F, 0x62, 1, 2])
        let retainedV5 = MQTTPacket.publish(topic: "t", payload: [], retain: true, version: .v5)
        #expect(retainedV5 == [0x31, 0x04, 0x00, 0x01, 0x74, 0x00])
        let big = MQTTPacket.publish(topic: "t", payload: Array(repeating: 0, count: 200))
        #expect(Array(big.prefix(3)) == [0x30, 0xCB, 0x01])
        #expect(big.count == 3 + 203)
    }

    @Test("QoS 0 SUBSCRIBE for 3.1.1 and 5.0 (§3.8)")
    func subscribe() {
        #expect(
            MQTTPacket.subscribe(packetID: 0x0102, topicFilter: "a/#")
                == [0x82, 0x08, 0x01, 0x02, 0x00, 0x03, 0x61, 0x2F, 0x23, 0x00])
        #expect(
            MQTTPacket.subscribe(packetID: 1, topicFilter: "x", version: .v5)
                == [0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 0x78, 0x00])
    }
}
