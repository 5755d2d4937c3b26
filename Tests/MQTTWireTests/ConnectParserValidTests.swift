import MQTTWire
import Testing

/// Packets written byte by byte from the specs, plus their expected decoding.
enum SpecPackets {
    /// MQTT 3.1.1 §3.1: the smallest CONNECT, clean session, keep alive 60, empty client id.
    static let v311Minimal: [UInt8] = [
        0x10, 0x0C,
        0x00, 0x04, 0x4D, 0x51, 0x54, 0x54,  // "MQTT"
        0x04,  // level 4
        0x02,  // clean session
        0x00, 0x3C,  // keep alive 60
        0x00, 0x00,  // client id ""
    ]

    /// MQTT 3.1 (IBM): protocol name MQIsdp, level 3, client id "hello".
    static let v31: [UInt8] = [
        0x10, 0x13,
        0x00, 0x06, 0x4D, 0x51, 0x49, 0x73, 0x64, 0x70,  // "MQIsdp"
        0x03, 0x02, 0x00, 0x3C,
        0x00, 0x05, 0x68, 0x65, 0x6C, 0x6C, 0x6F,  // "hello"
    ]

    /// MQTT 3.1.1 with every payload field: user name, password, Will QoS 1 retained, clean session.
    static let v311Full: [UInt8] = [
        0x10, 0x22,
        0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04,
        0xEE,  // user name, password, will retain, will QoS 1, will, clean session
        0x00, 0x0A,  // keep alive 10
        0x00, 0x03, 0x63, 0x69, 0x64,  // client id "cid"
        0x00, 0x03, 0x61, 0x2F, 0x62,  // will topic "a/b"
        0x00, 0x02, 0x68, 0x69,  // will payload "hi"
        0x00, 0x04, 0x75, 0x73, 0x65, 0x72,  // user name "user"
        0x00, 0x02, 0x70, 0x77,  // password "pw"
    ]

    /// CONNECT properties of ``v5Full``: session expiry 3600, receive maximum 20, maximum packet size 4096,
    /// user property k=v.
    static let v5Properties: [UInt8] = [
        0x11, 0x00, 0x00, 0x0E, 0x10,
        0x21, 0x00, 0x14,
        0x27, 0x00, 0x00, 0x10, 0x00,
        0x26, 0x00, 0x01, 0x6B, 0x00, 0x01, 0x76,
    ]

    /// Will properties of ``v5Full``: will delay 5, payload format 1, content type "text".
    static let v5WillProperties: [UInt8] = [
        0x18, 0x00, 0x00, 0x00, 0x05,
        0x01, 0x01,
        0x03, 0x00, 0x04, 0x74, 0x65, 0x78, 0x74,
    ]

    /// MQTT 5.0 §3.1 with properties, a QoS 2 Will with properties, user name and password.
    static let v5Full: [UInt8] =
        [
            0x10, 0x40,
            0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x05,
            0xD6,  // user name, password, will QoS 2, will, clean start
            0x00, 0x1E,  // keep alive 30
            0x14,  // properties length 20
        ] + v5Properties
        + [0x00, 0x02, 0x63, 0x35]  // client id "c5"
        + [0x0E] + v5WillProperties  // will properties length 14
        + [
            0x00, 0x01, 0x74,  // will topic "t"
            0x00, 0x03, 0x62, 0x79, 0x65,  // will payload "bye"
            0x00, 0x01, 0x75,  // user name "u"
            0x00, 0x01, 0x70,  // password "p"
        ]

    static let v311MinimalConnect = MQTTConnect(version: .v3_1_1, keepAlive: 60, clientID: "")
    static let v31Connect = MQTTConnect(version: .v3_1, keepAlive: 60, clientID: "hello")
    static let v311FullConnect = MQTTConnect(
        version: .v3_1_1, keepAlive: 10, clientID: "cid", username: "user", password: utf8("pw"),
        will: MQTTWill(topic: "a/b", payload: utf8("hi"), qos: 1, retain: true))
    static let v5FullConnect = MQTTConnect(
        version: .v5, keepAlive: 30, clientID: "c5", username: "u", password: utf8("p"),
        will: MQTTWill(topic: "t", payload: utf8("bye"), qos: 2, properties: v5WillProperties),
        properties: v5Properties)
}

@Suite("CONNECT parser: valid packets")
struct ConnectParserValidTests {
    @Test("hand-written packets have the length their header announces")
    func handWrittenLengths() {
        for packet in [SpecPackets.v311Minimal, SpecPackets.v31, SpecPackets.v311Full, SpecPackets.v5Full] {
            #expect(packet.count == 2 + Int(packet[1]))
        }
    }

    @Test("MQTT 3.1.1 minimal CONNECT, whole and byte by byte")
    func v311Minimal() {
        expectByteByByte(SpecPackets.v311Minimal, parsesTo: SpecPackets.v311MinimalConnect)
    }

    @Test("MQTT 3.1 CONNECT (MQIsdp/3), whole and byte by byte")
    func v31() {
        expectByteByByte(SpecPackets.v31, parsesTo: SpecPackets.v31Connect)
    }

    @Test("MQTT 3.1.1 CONNECT with will, user name and password, whole and byte by byte")
    func v311Full() {
        expectByteByByte(SpecPackets.v311Full, parsesTo: SpecPackets.v311FullConnect)
    }

    @Test("MQTT 5.0 CONNECT with properties and will properties, whole and byte by byte")
    func v5Full() {
        expectByteByByte(SpecPackets.v5Full, parsesTo: SpecPackets.v5FullConnect)
    }

    @Test("MQTT 5.0 minimal CONNECT with an empty property block")
    func v5Minimal() {
        let packet = connectPacket(mqttName(level: 5), [0x00, 0x00, 0x00], [0x00], field([]))
        expectByteByByte(packet, parsesTo: MQTTConnect(version: .v5, cleanStart: false, keepAlive: 0, clientID: ""))
    }

    @Test("MQTT 5.0 accepts a password without a user name (§3.1.2.9)")
    func v5PasswordWithoutUsername() {
        let packet = connectPacket(mqttName(level: 5), [0x42, 0x00, 0x3C, 0x00], field(utf8("c")), field([1, 2]))
        let expected = MQTTConnect(version: .v5, clientID: "c", password: [1, 2])
        expectByteByByte(packet, parsesTo: expected)
    }

    @Test("every property allowed in CONNECT and in the Will, user properties repeated")
    func allAllowedProperties() {
        let connectProperties: [UInt8] =
            [0x11, 0, 0, 0, 0, 0x21, 0xFF, 0xFF, 0x27, 0xFF, 0xFF, 0xFF, 0xFF, 0x22, 0, 0, 0x19, 1, 0x17, 0]
            + [0x26] + field(utf8("a")) + field(utf8("1")) + [0x26] + field(utf8("a")) + field(utf8("2"))
            + [0x15] + field(utf8("SCRAM")) + [0x16] + field([0, 1, 2])
        let willProperties: [UInt8] =
            [0x18, 0, 0, 0, 1, 0x01, 0, 0x02, 0, 0, 0, 9] + [0x03] + field(utf8("a/b")) + [0x08] + field(utf8("r"))
            + [0x09] + field([7]) + [0x26] + field([]) + field([]) + [0x26] + field([]) + field([])
        let connect = MQTTConnect(
            version: .v5, clientID: "all", will: MQTTWill(topic: "w", payload: [], properties: willProperties),
            properties: connectProperties)
        expectByteByByte(connect.encode(), parsesTo: connect)
    }

    @Test("multi-byte UTF-8 in strings is accepted")
    func multiByteUTF8() {
        let connect = MQTTConnect(version: .v3_1_1, clientID: "ü-€-𝄞", username: "名前")
        expectByteByByte(connect.encode(), parsesTo: connect)
    }

    @Test("a packet exactly maxPacketSize long is accepted")
    func exactlyMaxPacketSize() {
        let packet = SpecPackets.v311Full
        #expect(parse(packet, maxPacketSize: packet.count) == .complete(SpecPackets.v311FullConnect, length: 36))
    }

    @Test("bytes pipelined after the CONNECT are left alone")
    func pipelinedBytes() {
        let extra = MQTTPacket.subscribe(packetID: 1, topicFilter: "a/#") + MQTTPacket.pingReq + [0xFF, 0xFF]
        for (packet, connect) in [
            (SpecPackets.v31, SpecPackets.v31Connect), (SpecPackets.v5Full, SpecPackets.v5FullConnect),
        ] {
            #expect(parse(packet + extra) == .complete(connect, length: packet.count))
            #expect(parse(packet + [0x10]) == .complete(connect, length: packet.count))
        }
    }

    @Test("the raw-buffer entry point reads a slice in the middle of a larger buffer")
    func rawBufferSlice() {
        let buffer = [0xAA, 0xBB] + SpecPackets.v311Full + [0xCC]
        let result = buffer.withUnsafeBytes { raw in
            MQTTConnectParser.parse(
                UnsafeRawBufferPointer(rebasing: raw[2..<raw.count]), maxPacketSize: testMaxPacketSize)
        }
        #expect(result == .complete(SpecPackets.v311FullConnect, length: SpecPackets.v311Full.count))
    }

    @Test("a non-minimal Remaining Length (0x8C 0x00) is accepted, as HAProxy does")
    func nonMinimalRemainingLength() {
        let packet = [0x10, 0x8C, 0x00] + SpecPackets.v311Minimal.dropFirst(2)
        #expect(parse(packet) == .complete(SpecPackets.v311MinimalConnect, length: packet.count))
    }
}
