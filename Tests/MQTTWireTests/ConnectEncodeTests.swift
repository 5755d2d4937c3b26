import MQTTWire
import Testing

@Suite("CONNECT encoder")
struct ConnectEncodeTests {
    @Test("encode() writes the hand-written spec packets byte for byte")
    func matchesHandWritten() {
        #expect(SpecPackets.v311MinimalConnect.encode() == SpecPackets.v311Minimal)
        #expect(SpecPackets.v31Connect.encode() == SpecPackets.v31)
        #expect(SpecPackets.v311FullConnect.encode() == SpecPackets.v311Full)
        #expect(SpecPackets.v5FullConnect.encode() == SpecPackets.v5Full)
    }

    @Test("3.x encodings carry no property blocks even when properties are set")
    func propertiesIgnoredBefore5() {
        let connect = MQTTConnect(version: .v3_1_1, clientID: "x", properties: [0x11, 0, 0, 0, 1])
        #expect(connect.encode() == MQTTConnect(version: .v3_1_1, clientID: "x").encode())
    }

    static let roundTrips: [MQTTConnect] = [
        MQTTConnect(version: .v3_1, cleanStart: false, keepAlive: 0, clientID: String(repeating: "a", count: 23)),
        MQTTConnect(version: .v3_1, clientID: "u", username: "name", password: [0, 255]),
        MQTTConnect(version: .v3_1_1, clientID: "", username: "", password: []),
        MQTTConnect(
            version: .v3_1_1, keepAlive: 65535, clientID: "big",
            will: MQTTWill(topic: "last/will", payload: Array(repeating: 0xAB, count: 300), qos: 2, retain: true)),
        MQTTConnect(
            version: .v5, cleanStart: false, clientID: "five", username: "u",
            will: MQTTWill(topic: "w", payload: [1], qos: 1, properties: [0x02, 0, 0, 0, 60]),
            properties: [0x17, 1, 0x19, 0]),
        MQTTConnect(
            version: .v5, clientID: "long-properties",
            properties: Array(repeating: [0x26, 0x00, 0x01, 0x6B, 0x00, 0x01, 0x76], count: 30).flatMap { $0 }),
    ]

    @Test("encode() then parse gives the same value, whole and byte by byte", arguments: roundTrips)
    func roundTrip(connect: MQTTConnect) {
        expectByteByByte(connect.encode(), parsesTo: connect)
    }
}
