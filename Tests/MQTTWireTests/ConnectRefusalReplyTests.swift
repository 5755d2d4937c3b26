import MQTTWire
import Testing

/// What the front answers `packet`, which must be refused: the reply its error gives for the version the
/// packet announced. Nil when the packet is not refused.
private func reply(_ packet: [UInt8]) -> [UInt8]? {
    guard case .invalid(let error) = parse(packet) else { return nil }
    return error.reply(version: MQTTConnectParser.announcedVersion(packet))
}

/// MQTT 5.0 §3.2.2.2: a CONNACK with `reason`, Session Present 0 and no properties.
private func v5ConnAck(_ reason: UInt8) -> [UInt8] {
    [0x20, 0x03, 0x00, reason, 0x00]
}

/// A 5.0 CONNECT (client id "c") with `flags` and `properties`, and when the flags carry the Will, a Will
/// with `willProperties` on `willTopic`.
private func v5Packet(
    flags: UInt8 = 0x02, properties: [UInt8] = [], willProperties: [UInt8] = [], willTopic: [UInt8] = utf8("w")
) -> [UInt8] {
    let will: [UInt8] =
        flags & 0x04 != 0 ? [UInt8(willProperties.count)] + willProperties + field(willTopic) + field([]) : []
    return connectPacket(
        mqttName(level: 5), [flags, 0x00, 0x3C, UInt8(properties.count)], properties, field(utf8("c")), will)
}

@Suite("CONNECT refusals: what the client is answered")
struct ConnectRefusalReplyTests {
    @Test("the announced version is known once the protocol level byte is in, and only for a known pair")
    func announcedVersion() {
        let v311 = SpecPackets.v311Minimal
        for count in 0..<9 {
            #expect(MQTTConnectParser.announcedVersion(Array(v311.prefix(count))) == nil, "\(count) bytes")
        }
        #expect(MQTTConnectParser.announcedVersion(Array(v311.prefix(9))) == .v3_1_1)
        #expect(MQTTConnectParser.announcedVersion(MQTTConnect(version: .v5, clientID: "c").encode()) == .v5)
        #expect(MQTTConnectParser.announcedVersion(MQTTConnect(version: .v3_1, clientID: "c").encode()) == .v3_1)
        #expect(MQTTConnectParser.announcedVersion(connectPacket(mqttName(level: 6), [0x02, 0, 0])) == nil)
        #expect(MQTTConnectParser.announcedVersion([0x30, 0x02, 0x00, 0x00]) == nil)
        // A 4-byte Remaining Length announcing more than any limit: the header is still read.
        let huge: [UInt8] = [0x10, 0xFF, 0xFF, 0xFF, 0x7F] + mqttName(level: 5)
        #expect(MQTTConnectParser.announcedVersion(huge) == .v5)
    }

    @Test("3.1 and 3.1.1: a malformed CONNECT is answered by a close alone (3.1.1 §3.1.4, §4.8)")
    func v3MalformedCloses() {
        for version in [MQTTProtocolVersion.v3_1, .v3_1_1] {
            let header = protocolHeader(version)
            let cases: [(String, [UInt8])] = [
                ("empty will topic", willPacket(version: version, topic: [])),
                ("# will topic", willPacket(version: version, topic: utf8("a/#"))),
                ("+ will topic", willPacket(version: version, topic: utf8("+"))),
                ("reserved flag", connectPacket(header, [0x03, 0x00, 0x3C], field(utf8("c")))),
                (
                    "will QoS 3",
                    connectPacket(header, [0x1E, 0x00, 0x3C], field(utf8("c")), field(utf8("t")), field([]))
                ),
                ("will QoS without will", connectPacket(header, [0x0A, 0x00, 0x3C], field(utf8("c")))),
                ("will retain without will", connectPacket(header, [0x22, 0x00, 0x3C], field(utf8("c")))),
                (
                    "password without user name",
                    connectPacket(header, [0x42, 0x00, 0x3C], field(utf8("c")), field([1]))
                ),
                ("bad UTF-8", connectPacket(header, [0x02, 0x00, 0x3C], field([0xC3, 0x28]))),
                ("U+0000", connectPacket(header, [0x02, 0x00, 0x3C], field([0x61, 0x00]))),
                ("bytes left over", connectPacket(header, [0x02, 0x00, 0x3C], field(utf8("c")), [0xAA])),
            ]
            for (name, packet) in cases {
                #expect(reply(packet) == [], "\(version) \(name)")
            }
        }
    }

    @Test("5.0: a Malformed Packet is answered CONNACK 0x81, then the close (5.0 §3.1.4, §4.13.1)")
    func v5Malformed() {
        let cases: [(String, [UInt8])] = [
            // §3.1.2.3: the reserved flag must be 0, else Malformed Packet.
            ("reserved flag", v5Packet(flags: 0x03)),
            // §3.1.2.6: Will QoS 3 is a Malformed Packet; §3.1.2.6–7: QoS and Retain must be 0 without the Will.
            ("will QoS 3", v5Packet(flags: 0x1E)),
            ("will QoS without will", v5Packet(flags: 0x0A)),
            ("will retain without will", v5Packet(flags: 0x22)),
            // §1.5.4: ill-formed UTF-8 and U+0000 make a Malformed Packet.
            ("bad UTF-8 will topic", v5Packet(flags: 0x06, willTopic: [0xFF])),
            ("U+0000 will topic", v5Packet(flags: 0x06, willTopic: [0x61, 0x00])),
            // §2.2.2.2: an identifier not valid for the packet is a Malformed Packet.
            ("will property in CONNECT", v5Packet(properties: [0x01, 0x00])),
            ("CONNECT property in the Will", v5Packet(flags: 0x06, willProperties: [0x11, 0, 0, 0, 1])),
            // §1.5.5: a Variable Byte Integer of more than 4 bytes.
            (
                "5-byte property length",
                connectPacket(mqttName(level: 5), [0x02, 0x00, 0x3C, 0x80, 0x80, 0x80, 0x80, 0x01])
            ),
            ("bytes left over", connectPacket(mqttName(level: 5), [0x02, 0x00, 0x3C, 0x00], field(utf8("c")), [0xAA])),
        ]
        for (name, packet) in cases {
            #expect(reply(packet) == v5ConnAck(0x81), "\(name)")
        }
    }

    @Test("5.0: a Protocol Error is answered CONNACK 0x82, then the close (5.0 §3.1.4, §4.13.1)")
    func v5ProtocolError() {
        let cases: [(String, [UInt8])] = [
            // §4.7.3: a Topic Name is at least one character; §4.7.1: it holds no wildcard.
            ("empty will topic", v5Packet(flags: 0x06, willTopic: [])),
            ("# will topic", v5Packet(flags: 0x06, willTopic: utf8("#"))),
            ("+ will topic", v5Packet(flags: 0x06, willTopic: utf8("a/+/b"))),
            // §3.1.2.11.2–3, §3.1.3.2.2: a property more than once is a Protocol Error.
            ("duplicate Session Expiry Interval", v5Packet(properties: [0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 2])),
            (
                "duplicate Will Delay Interval",
                v5Packet(flags: 0x06, willProperties: [0x18, 0, 0, 0, 1, 0x18, 0, 0, 0, 1])
            ),
            // §3.1.2.11.3: Receive Maximum 0; §3.1.2.11.6: Request Response Information other than 0 or 1.
            ("Receive Maximum 0", v5Packet(properties: [0x21, 0, 0])),
            ("Request Response Information 2", v5Packet(properties: [0x19, 2])),
            // §3.1.2.11.10: Authentication Data without an Authentication Method.
            ("auth data alone", v5Packet(properties: [0x16, 0, 1, 9])),
        ]
        for (name, packet) in cases {
            #expect(reply(packet) == v5ConnAck(0x82), "\(name)")
        }
    }

    @Test("an unsupported protocol level of MQTT or MQIsdp is answered return code 1 (3.1.1 §3.1.2.2)")
    func unsupportedLevel() {
        let unacceptable: [UInt8] = [0x20, 0x02, 0x00, 0x01]
        #expect(reply(connectPacket(mqttName(level: 6), [0x02, 0x00, 0x3C], field(utf8("c")))) == unacceptable)
        #expect(reply(connectPacket(mqttName(level: 3), [0x02, 0x00, 0x3C], field(utf8("c")))) == unacceptable)
        let mqisdp4 = connectPacket([0x00, 0x06] + utf8("MQIsdp") + [4], [0x02, 0x00, 0x3C], field(utf8("c")))
        #expect(reply(mqisdp4) == unacceptable)
        // 3.1.1 §3.1.2.1: another protocol name is not MQTT at all: a close.
        #expect(reply(connectPacket([0x00, 0x04] + utf8("HTTP") + [4], [0x02, 0x00, 0x3C], field(utf8("c")))) == [])
    }

    @Test("an MQTT 3.1 client id of 0 or more than 23 bytes is answered return code 2 (MQTT 3.1, CONNACK)")
    func v31ClientIdentifier() {
        let rejected: [UInt8] = [0x20, 0x02, 0x00, 0x02]
        #expect(reply(MQTTConnect(version: .v3_1, clientID: "").encode()) == rejected)
        #expect(reply(MQTTConnect(version: .v3_1, clientID: String(repeating: "x", count: 24)).encode()) == rejected)
    }

    @Test("what is decided before the protocol name is read is answered by a close alone")
    func beforeTheVersion() {
        #expect(reply([0x30, 0x00]) == [])
        #expect(reply([0x12]) == [])
        #expect(reply([0x10, 0xFF, 0xFF, 0xFF, 0xFF]) == [])
        #expect(reply([0x10, 0x00]) == [])
        // Too large is decided from the fixed header, whatever follows.
        let large = MQTTConnect(version: .v5, clientID: String(repeating: "x", count: 200)).encode()
        #expect(parse(large, maxPacketSize: 64) == .invalid(.tooLarge(large.count)))
        #expect(MQTTConnectError.tooLarge(large.count).reply(version: MQTTConnectParser.announcedVersion(large)) == [])
    }
}
