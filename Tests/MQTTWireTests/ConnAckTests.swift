import MQTTWire
import Testing

@Suite("CONNACK")
struct ConnAckTests {
    static let refusals: [(MQTTProtocolVersion, MQTTRefusal, [UInt8])] = [
        (.v3_1, .serverUnavailable, [0x20, 0x02, 0x00, 0x03]),
        (.v3_1, .quotaExceeded, [0x20, 0x02, 0x00, 0x03]),
        (.v3_1, .clientIdentifierRejected, [0x20, 0x02, 0x00, 0x02]),
        (.v3_1_1, .serverUnavailable, [0x20, 0x02, 0x00, 0x03]),
        (.v3_1_1, .quotaExceeded, [0x20, 0x02, 0x00, 0x03]),
        (.v3_1_1, .clientIdentifierRejected, [0x20, 0x02, 0x00, 0x02]),
        (.v5, .serverUnavailable, [0x20, 0x03, 0x00, 0x88, 0x00]),
        (.v5, .quotaExceeded, [0x20, 0x03, 0x00, 0x97, 0x00]),
        (.v5, .clientIdentifierRejected, [0x20, 0x03, 0x00, 0x85, 0x00]),
    ]

    @Test("refusal CONNACK bytes per version (3.1.1 §3.2.2.3, 5.0 §3.2.2.2)", arguments: refusals)
    func refusalBytes(version: MQTTProtocolVersion, refusal: MQTTRefusal, expected: [UInt8]) {
        #expect(MQTTConnAck.bytes(version: version, refusal: refusal) == expected)
        let parsed = MQTTConnAck.parse(expected)
        #expect(parsed?.sessionPresent == false)
        #expect(parsed?.code == expected[3])
    }

    @Test("accepted CONNACK, with and without Session Present")
    func accepted() {
        #expect(MQTTConnAck.bytes(version: .v3_1_1, returnCode: MQTTConnAck.accepted) == [0x20, 0x02, 0x00, 0x00])
        #expect(MQTTConnAck.bytes(version: .v5, returnCode: 0) == [0x20, 0x03, 0x00, 0x00, 0x00])
        let resumed = MQTTConnAck.bytes(version: .v3_1, returnCode: 0, sessionPresent: true)
        #expect(resumed == [0x20, 0x02, 0x01, 0x00])
        #expect(MQTTConnAck.parse(resumed)?.sessionPresent == true)
    }

    @Test("parse tolerates 5.0 properties and trailing packets")
    func parseTolerant() {
        // Topic Alias Maximum 10, Receive Maximum 20.
        let v5: [UInt8] = [0x20, 0x09, 0x00, 0x00, 0x06, 0x22, 0x00, 0x0A, 0x21, 0x00, 0x14]
        #expect(MQTTConnAck.parse(v5)?.code == 0)
        #expect(MQTTConnAck.parse([0x20, 0x02, 0x00, 0x05] + MQTTPacket.pingResp)?.code == 5)
    }

    @Test("parse refuses what is not a whole CONNACK")
    func parseRefuses() {
        let bad: [[UInt8]] = [
            [], [0x20], [0x20, 0x02, 0x00], [0x20, 0x01, 0x00], [0x21, 0x02, 0x00, 0x00],
            [0x10, 0x02, 0x00, 0x00], [0x20, 0x02, 0x02, 0x00], [0x20, 0x03, 0x00, 0x00],
            [0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], MQTTPacket.pingResp,
        ]
        for bytes in bad {
            #expect(MQTTConnAck.parse(bytes) == nil, "\(bytes)")
        }
    }
}
