import MQTTWire
import Testing

@Suite("CONNECT parser: malformed and refused packets")
struct ConnectParserInvalidTests {
    // MARK: Fixed header

    @Test("a packet type other than CONNECT is refused on the first byte alone")
    func notConnect() {
        #expect(parse([0x30]) == .invalid(.notConnect(packetType: 3)))
        #expect(parse([0x00]) == .invalid(.notConnect(packetType: 0)))
        #expect(parse(MQTTPacket.pingReq) == .invalid(.notConnect(packetType: 12)))
        #expect(parse(MQTTPacket.publish(topic: "a", payload: [1])) == .invalid(.notConnect(packetType: 3)))
        let http = utf8("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(firstVerdict(http) == (1, .invalid(.notConnect(packetType: 0x4))))
        #expect(parse(utf8("G")) == .invalid(.notConnect(packetType: 0x4)))
    }

    @Test("CONNECT fixed-header flags must be 0 (3.1.1 §2.2.2)")
    func badFixedHeaderFlags() {
        #expect(parse([0x12]) == .invalid(.badFixedHeaderFlags(0x02)))
        #expect(parse([0x1F, 0x0C]) == .invalid(.badFixedHeaderFlags(0x0F)))
    }

    @Test("a Remaining Length of 5 bytes is malformed, decided on the 4th continuation byte")
    func fiveByteRemainingLength() {
        let packet: [UInt8] = [0x10, 0x80, 0x80, 0x80, 0x80, 0x01] + SpecPackets.v311Minimal.dropFirst(2)
        #expect(firstVerdict(packet) == (5, .invalid(.malformedRemainingLength)))
        #expect(parse([0x10, 0xFF, 0xFF, 0xFF, 0xFF]) == .invalid(.malformedRemainingLength))
        #expect(parse([0x10, 0xFF, 0xFF, 0xFF]) == .needMoreData)
    }

    @Test("tooLarge is decided from the fixed header alone, before any body byte")
    func tooLargeFromHeader() {
        #expect(parse([0x10, 0xFF, 0x7F], maxPacketSize: 1024) == .invalid(.tooLarge(3 + 16_383)))
        #expect(parse([0x10, 0xFF, 0xFF, 0xFF, 0x7F], maxPacketSize: 1 << 20) == .invalid(.tooLarge(268_435_460)))
        let packet = SpecPackets.v5Full
        #expect(firstVerdict(packet, maxPacketSize: packet.count - 1) == (2, .invalid(.tooLarge(packet.count))))
    }

    // MARK: Protocol name and level

    @Test("unknown protocol name/level pairs are refused once name and level are in")
    func unsupportedProtocol() {
        let cases: [([UInt8], String, UInt8)] = [
            ([0x00, 0x04] + utf8("MQTT") + [3], "MQTT", 3),
            ([0x00, 0x06] + utf8("MQIsdp") + [4], "MQIsdp", 4),
            ([0x00, 0x04] + utf8("MQTT") + [6], "MQTT", 6),
            ([0x00, 0x04] + utf8("HTTP") + [4], "HTTP", 4),
            ([0x00, 0x05] + utf8("MQTTX") + [4], "MQTTX", 4),
            ([0x00, 0x00, 4], "", 4),
        ]
        for (header, name, level) in cases {
            let packet = connectPacket(header, [0x02, 0x00, 0x3C], field(utf8("c")))
            #expect(
                firstVerdict(packet) == (2 + header.count, .invalid(.unsupportedProtocol(name: name, level: level))))
        }
    }

    // MARK: Connect flags

    @Test("the reserved connect flag must be 0 (3.1.1 §3.1.2.3)")
    func reservedFlag() {
        for level: UInt8 in [4, 5] {
            let packet = connectPacket(mqttName(level: level), [0x03, 0x00, 0x3C, 0x00], field([]))
            #expect(firstVerdict(packet) == (10, .invalid(.reservedFlagSet)))
        }
    }

    @Test("Will QoS 3, Will QoS or Retain without Will, and password without user name before 5.0")
    func invalidConnectFlags() {
        for flags: UInt8 in [0x1E, 0x0A, 0x12, 0x22, 0x42] {
            let packet = connectPacket(mqttName(level: 4), [flags, 0x00, 0x3C], field(utf8("c")))
            #expect(firstVerdict(packet) == (10, .invalid(.invalidConnectFlags(flags))))
        }
        let v31 = MQTTConnect(version: .v3_1, clientID: "c", password: [1]).encode()
        #expect(parse(v31) == .invalid(.invalidConnectFlags(0x42)))
        let v5WillQoS3 = connectPacket(mqttName(level: 5), [0x1C, 0x00, 0x3C, 0x00], field(utf8("c")))
        #expect(parse(v5WillQoS3) == .invalid(.invalidConnectFlags(0x1C)))
        #expect(parse(MQTTConnect(version: .v5, clientID: "c", password: [1]).encode()).isComplete)
    }

    // MARK: Lengths

    @Test("a Remaining Length too short for the variable header is refused at once")
    func remainingLengthTooShort() {
        #expect(parse([0x10, 0x00]) == .invalid(.lengthMismatch(field: "protocol name")))
        #expect(parse([0x10, 0x01, 0x00]) == .invalid(.lengthMismatch(field: "protocol name")))
        #expect(parse([0x10, 0x04, 0x00, 0x04]) == .invalid(.lengthMismatch(field: "protocol name")))
        let noKeepAlive = [0x10, 0x08] + mqttName(level: 4) + [0x02]
        #expect(firstVerdict(noKeepAlive) == (10, .invalid(.lengthMismatch(field: "keep alive"))))
        let noClientID = [0x10, 0x0A] + mqttName(level: 4) + [0x02, 0x00, 0x3C]
        #expect(parse(noClientID) == .invalid(.lengthMismatch(field: "client identifier")))
    }

    @Test("a field length running past the Remaining Length is lengthMismatch, before its bytes arrive")
    func fieldPastRemainingLength() {
        // Client id announces 200 bytes inside a 14-byte body: decided right after the length is read.
        let packet = connectPacket(mqttName(level: 4), [0x02, 0x00, 0x3C], [0x00, 0xC8], utf8("ab"))
        #expect(firstVerdict(packet) == (14, .invalid(.lengthMismatch(field: "client identifier"))))
        let password = connectPacket(mqttName(level: 4), [0xC2, 0x00, 0x3C], field([]), field([]), [0x00, 0x09])
        #expect(parse(password) == .invalid(.lengthMismatch(field: "password")))
        let willPayload = connectPacket(mqttName(level: 4), [0x06, 0x00, 0x3C], field([]), field(utf8("t")), [0x00])
        #expect(parse(willPayload) == .invalid(.lengthMismatch(field: "will payload")))
    }

    @Test("bytes left over inside the Remaining Length are refused once the last field is read")
    func leftoverBytes() {
        let body = Array(SpecPackets.v311Minimal.dropFirst(2))
        let packet = connectPacket(body, [0xAA, 0xBB])
        let expected = MQTTConnectParseResult.invalid(
            .lengthMismatch(field: "payload (bytes left over after the last field)"))
        #expect(firstVerdict(packet) == (SpecPackets.v311Minimal.count, expected))
        #expect(parse(packet) == expected)
    }

    @Test("5.0 property blocks: length past the packet, truncated property, 5-byte length")
    func badPropertyLengths() {
        let tooLong = connectPacket(mqttName(level: 5), [0x02, 0x00, 0x3C, 0x20], field([]))
        #expect(parse(tooLong) == .invalid(.lengthMismatch(field: "properties")))
        // Session Expiry Interval needs 4 bytes; the block holds 2 of them.
        let truncated = connectPacket(mqttName(level: 5), [0x02, 0x00, 0x3C, 0x03, 0x11, 0x00, 0x00], field([]))
        #expect(parse(truncated) == .invalid(.lengthMismatch(field: "Session Expiry Interval")))
        let cutString = connectPacket(mqttName(level: 5), [0x02, 0x00, 0x3C, 0x03, 0x15, 0x00, 0x05], field([]))
        #expect(parse(cutString) == .invalid(.lengthMismatch(field: "Authentication Method")))
        let fiveBytes = connectPacket(mqttName(level: 5), [0x02, 0x00, 0x3C, 0x80, 0x80, 0x80, 0x80, 0x01])
        #expect(parse(fiveBytes) == .invalid(.variableByteIntegerTooLong(field: "properties length")))
        let willTooLong = connectPacket(mqttName(level: 5), [0x06, 0x00, 0x3C, 0x00], field(utf8("c")), [0x7F])
        #expect(parse(willTooLong) == .invalid(.lengthMismatch(field: "will properties")))
    }

    // MARK: Strings

    @Test("strings must be well-formed UTF-8 without U+0000 (3.1.1 §1.5.3)")
    func invalidUTF8() {
        let badStrings: [[UInt8]] = [
            [0xC3, 0x28],  // bad continuation
            [0xFF],  // never valid
            [0xC0, 0x80],  // overlong NUL
            [0xED, 0xA0, 0x80],  // surrogate U+D800
            [0x61, 0x00, 0x62],  // U+0000
            [0xE2, 0x82],  // truncated sequence
        ]
        for bad in badStrings {
            let clientID = connectPacket(mqttName(level: 4), [0x02, 0x00, 0x3C], field(bad))
            #expect(parse(clientID) == .invalid(.invalidUTF8(field: "client identifier")))
            let username = connectPacket(mqttName(level: 4), [0x82, 0x00, 0x3C], field([]), field(bad))
            #expect(parse(username) == .invalid(.invalidUTF8(field: "user name")))
            let willTopic = connectPacket(mqttName(level: 4), [0x06, 0x00, 0x3C], field([]), field(bad), field([]))
            #expect(parse(willTopic) == .invalid(.invalidUTF8(field: "will topic")))
        }
        let userProperty = [0x26] + field(utf8("k")) + field([0xC3, 0x28])
        let packet = connectPacket(
            mqttName(level: 5), [0x02, 0x00, 0x3C, UInt8(userProperty.count)], userProperty, field([]))
        #expect(parse(packet) == .invalid(.invalidUTF8(field: "User Property value")))
        let v31 = connectPacket([0x00, 0x06] + utf8("MQIsdp") + [3], [0x02, 0x00, 0x3C], field([0x00]))
        #expect(parse(v31) == .invalid(.invalidUTF8(field: "client identifier")))
    }

    // MARK: Will Topic

    @Test(
        "an empty Will Topic is refused once its length is read (3.1.1 §3.1.3.3, §4.7.3; 5.0 §3.1.3.3, §4.7.3)",
        arguments: MQTTProtocolVersion.allCases)
    func emptyWillTopic(version: MQTTProtocolVersion) {
        let packet = willPacket(version: version, topic: [])
        let expected = MQTTConnectParseResult.invalid(.invalidField(field: "will topic", reason: "must not be empty"))
        // Everything up to and including the topic's two length bytes.
        #expect(firstVerdict(packet) == (willTopicOffset(version) + 2, expected))
    }

    @Test(
        "a Will Topic with a wildcard is refused once the topic is in (3.1.1 §4.7.1; 5.0 §4.7.1)",
        arguments: MQTTProtocolVersion.allCases)
    func wildcardWillTopic(version: MQTTProtocolVersion) {
        let expected = MQTTConnectParseResult.invalid(
            .invalidField(field: "will topic", reason: "must not contain the wildcards # or +"))
        for topic in ["#", "+", "a/#", "a/+/b", "sport+", "#/a", "a#"] {
            let packet = willPacket(version: version, topic: utf8(topic))
            #expect(
                firstVerdict(packet) == (willTopicOffset(version) + 2 + topic.utf8.count, expected),
                "\(version) \(topic)")
        }
    }

    @Test("Will Topics that are valid Topic Names are accepted", arguments: MQTTProtocolVersion.allCases)
    func validWillTopics(version: MQTTProtocolVersion) {
        for topic in ["/", "$SYS/x", "a b", "a//b", "ü/ö", "a/*"] {
            #expect(parse(willPacket(version: version, topic: utf8(topic))).isComplete, "\(version) \(topic)")
        }
    }

    // MARK: Fields

    @Test("MQTT 3.1 client ids must be 1 to 23 bytes")
    func v31ClientIDLength() {
        #expect(parse(MQTTConnect(version: .v3_1, clientID: "").encode()) == .invalid(.clientIdentifierLength(0)))
        #expect(
            parse(MQTTConnect(version: .v3_1, clientID: String(repeating: "x", count: 24)).encode())
                == .invalid(.clientIdentifierLength(24)))
        #expect(parse(MQTTConnect(version: .v3_1, clientID: String(repeating: "x", count: 23)).encode()).isComplete)
        #expect(parse(MQTTConnect(version: .v3_1_1, clientID: String(repeating: "x", count: 24)).encode()).isComplete)
    }
}

/// The protocol name and level of `version`, as on the wire.
func protocolHeader(_ version: MQTTProtocolVersion) -> [UInt8] {
    version == .v3_1 ? [0x00, 0x06] + utf8("MQIsdp") + [3] : mqttName(level: version.rawValue)
}

/// A CONNECT with a Will (QoS 0) on `topic` and an empty Will Payload, client id "c", built by hand.
func willPacket(version: MQTTProtocolVersion, topic: [UInt8]) -> [UInt8] {
    let properties: [UInt8] = version == .v5 ? [0x00] : []
    return connectPacket(
        protocolHeader(version), [0x06, 0x00, 0x3C], properties, field(utf8("c")), properties, field(topic),
        field([]))
}

/// Where the Will Topic's length starts in ``willPacket(version:topic:)``.
func willTopicOffset(_ version: MQTTProtocolVersion) -> Int {
    2 + protocolHeader(version).count + 3 + 3 + (version == .v5 ? 2 : 0)
}

extension MQTTConnectParseResult {
    /// Whether this is `.complete`, whatever the value.
    var isComplete: Bool {
        if case .complete = self { return true }
        return false
    }
}
