import MQTTWire
import Testing

@testable import FrontBench

@Suite struct BenchPacketsTests {
    @Test(arguments: [MQTTProtocolVersion.v3_1_1, .v5], [UInt8(0), 1])
    func publishRoundTripsTheSendTime(version: MQTTProtocolVersion, qos: UInt8) throws {
        let sentAt: UInt64 = 0x0102_0304_0506_0708
        let packet = BenchPackets.publish(
            topic: "bench/7", sentAt: sentAt, payloadSize: 64, qos: qos, packetID: 513, version: version)
        guard case .packet(let header, let offset, let total) = MQTTFrameSplitter.next(packet) else {
            Issue.record("not a whole packet")
            return
        }
        #expect(total == packet.count)
        #expect(header == 0x30 | qos << 1)
        let parsed = packet.withUnsafeBytes { bytes in
            BenchPackets.parsePublish(
                header: header, body: UnsafeRawBufferPointer(rebasing: bytes[offset..<total]), version: version)
        }
        #expect(parsed == BenchPackets.ReceivedPublish(qos: qos, packetID: qos == 1 ? 513 : 0, sentAt: sentAt))
        // Topic (2 + 7), packet id for QoS 1, property length for 5.0, then exactly 64 payload bytes.
        #expect(total - offset == 9 + (qos == 1 ? 2 : 0) + (version == .v5 ? 1 : 0) + 64)
    }

    @Test func shortPublishIsNotParsed() {
        let parsed = [UInt8](arrayLiteral: 0x00, 0x09, 0x61).withUnsafeBytes {
            BenchPackets.parsePublish(header: 0x32, body: $0, version: .v3_1_1)
        }
        #expect(parsed == nil)
    }

    @Test(arguments: [MQTTProtocolVersion.v3_1_1, .v5])
    func readsTheConnectLevel(version: MQTTProtocolVersion) {
        let connect = MQTTConnect(version: version, clientID: "c1").encode()
        guard case .packet(_, let offset, let total) = MQTTFrameSplitter.next(connect) else {
            Issue.record("not a whole packet")
            return
        }
        let level = connect.withUnsafeBytes {
            BenchPackets.connectVersion(body: UnsafeRawBufferPointer(rebasing: $0[offset..<total]))
        }
        #expect(level == version)
    }

    @Test func subAckMatchesTheVersion() {
        #expect(BenchPackets.subAck(packetID: 0x0102, granted: 0, version: .v3_1_1) == [0x90, 0x03, 0x01, 0x02, 0x00])
        #expect(
            BenchPackets.subAck(packetID: 0x0102, granted: 1, version: .v5) == [0x90, 0x04, 0x01, 0x02, 0x00, 0x01])
    }

    @Test func subscribeCarriesTheRequestedQoS() {
        let packet = BenchPackets.subscribe(packetID: 1, topicFilter: "t", qos: 1, version: .v3_1_1)
        #expect(packet.last == 1)
        #expect(packet.first == 0x82)
    }
}
