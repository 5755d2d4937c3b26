import MQTTWire
import Testing

/// A 5.0 CONNECT (clean start, keep alive 60, client id "c") with `properties` and, when given, a Will with
/// `willProperties`, built by hand.
private func v5Packet(properties: [UInt8], willProperties: [UInt8]? = nil) -> [UInt8] {
    guard let willProperties else {
        return connectPacket(
            mqttName(level: 5), [0x02, 0x00, 0x3C, UInt8(properties.count)], properties, field(utf8("c")))
    }
    return connectPacket(
        mqttName(level: 5), [0x06, 0x00, 0x3C, UInt8(properties.count)], properties, field(utf8("c")),
        [UInt8(willProperties.count)], willProperties, field(utf8("w")), field([]))
}

@Suite("CONNECT parser: MQTT 5.0 properties")
struct ConnectPropertyTests {
    @Test("identifiers not allowed in CONNECT are refused", arguments: [0x01, 0x02, 0x18, 0x24, 0x7F] as [UInt8])
    func disallowedInConnect(identifier: UInt8) {
        let packet = v5Packet(properties: [identifier, 0x00, 0x00, 0x00, 0x00])
        #expect(parse(packet) == .invalid(.invalidProperty(identifier: UInt32(identifier))))
    }

    @Test("identifiers not allowed in the Will are refused", arguments: [0x11, 0x21, 0x15, 0x00] as [UInt8])
    func disallowedInWill(identifier: UInt8) {
        let packet = v5Packet(properties: [], willProperties: [identifier, 0x00, 0x01, 0x00, 0x01])
        #expect(parse(packet) == .invalid(.invalidProperty(identifier: UInt32(identifier))))
    }

    @Test("a multi-byte property identifier is read as a Variable Byte Integer and refused")
    func multiByteIdentifier() {
        let packet = v5Packet(properties: [0x80, 0x01, 0x00])
        #expect(parse(packet) == .invalid(.invalidProperty(identifier: 128)))
    }

    @Test("a property that may appear once is refused the second time, decided on its identifier")
    func duplicates() {
        let sessionExpiry: [UInt8] = [0x11, 0, 0, 0, 1]
        let twice = v5Packet(properties: sessionExpiry + sessionExpiry)
        #expect(parse(twice) == .invalid(.duplicateProperty(identifier: 0x11)))
        // Decided as soon as the second identifier is read: 13 header bytes + 5 + 1.
        #expect(firstVerdict(twice).prefixLength == 2 + 7 + 4 + 5 + 1)
        let receiveMaximum = v5Packet(properties: [0x21, 0, 1, 0x21, 0, 2])
        #expect(parse(receiveMaximum) == .invalid(.duplicateProperty(identifier: 0x21)))
        let willDelay = v5Packet(properties: [], willProperties: [0x18, 0, 0, 0, 1, 0x18, 0, 0, 0, 2])
        #expect(parse(willDelay) == .invalid(.duplicateProperty(identifier: 0x18)))
        let authMethod = [0x15] + field(utf8("a"))
        #expect(parse(v5Packet(properties: authMethod + authMethod)) == .invalid(.duplicateProperty(identifier: 0x15)))
    }

    /// One valid value of each property that may appear only once (MQTT 5.0 §3.1.2.11, §3.1.3.2).
    static let onceOnly: [(identifier: UInt8, value: [UInt8], will: Bool)] = [
        (0x11, [0, 0, 0, 9], false), (0x21, [0, 1], false), (0x27, [0, 0, 1, 0], false), (0x22, [0, 4], false),
        (0x19, [1], false), (0x17, [0], false), (0x15, field(utf8("m")), false), (0x16, field([7]), false),
        (0x18, [0, 0, 0, 5], true), (0x01, [1], true), (0x02, [0, 0, 0, 60], true), (0x03, field(utf8("t")), true),
        (0x08, field(utf8("r")), true), (0x09, field([1]), true),
    ]

    @Test(
        "every property that may appear once is refused the second time, in CONNECT and Will properties alike",
        arguments: 0..<onceOnly.count)
    func everyDuplicate(index: Int) {
        let (identifier, value, will) = Self.onceOnly[index]
        let property = [identifier] + value
        let twice =
            will
            ? v5Packet(properties: [], willProperties: property + property) : v5Packet(properties: property + property)
        let expected = MQTTConnectParseResult.invalid(.duplicateProperty(identifier: UInt32(identifier)))
        // Decided on the second identifier: header 2, name and level 7, flags and keep alive 3, then the block.
        let blockStart = will ? 2 + 7 + 3 + 1 + 3 + 1 : 2 + 7 + 3 + 1
        #expect(firstVerdict(twice) == (blockStart + property.count + 1, expected))
        // Once is fine (Authentication Data needs its Method beside it).
        let once = identifier == 0x16 ? [0x15] + field(utf8("m")) + property : property
        #expect(parse(will ? v5Packet(properties: [], willProperties: once) : v5Packet(properties: once)).isComplete)
    }

    @Test("User Property may appear any number of times, in CONNECT and Will properties")
    func userPropertyRepeats() {
        let user = [0x26] + field(utf8("k")) + field(utf8("v"))
        #expect(parse(v5Packet(properties: user + user + user)).isComplete)
        #expect(parse(v5Packet(properties: [], willProperties: user + user)).isComplete)
    }

    @Test("property values out of range are refused")
    func valueRanges() {
        let cases: [([UInt8], String, String)] = [
            ([0x21, 0x00, 0x00], "Receive Maximum", "must not be 0"),
            ([0x27, 0x00, 0x00, 0x00, 0x00], "Maximum Packet Size", "must not be 0"),
            ([0x19, 0x02], "Request Response Information", "must be 0 or 1"),
            ([0x17, 0xFF], "Request Problem Information", "must be 0 or 1"),
            ([0x16, 0x00, 0x01, 0xAA], "Authentication Data", "sent without an Authentication Method"),
        ]
        for (properties, name, reason) in cases {
            #expect(parse(v5Packet(properties: properties)) == .invalid(.invalidField(field: name, reason: reason)))
        }
        let payloadFormat = v5Packet(properties: [], willProperties: [0x01, 0x02])
        #expect(
            parse(payloadFormat)
                == .invalid(.invalidField(field: "Payload Format Indicator", reason: "must be 0 or 1")))
    }

    @Test("bad UTF-8 in string properties is refused")
    func propertyStrings() {
        let contentType = v5Packet(properties: [], willProperties: [0x03] + field([0xFF]))
        #expect(parse(contentType) == .invalid(.invalidUTF8(field: "Content Type")))
        let authMethod = v5Packet(properties: [0x15] + field([0x00]))
        #expect(parse(authMethod) == .invalid(.invalidUTF8(field: "Authentication Method")))
        let userName = v5Packet(properties: [0x26] + field([0xC0, 0x80]) + field([]))
        #expect(parse(userName) == .invalid(.invalidUTF8(field: "User Property name")))
    }

    @Test("a hand-written property block parses byte by byte and is kept raw")
    func rawPropertiesKept() {
        let properties: [UInt8] = [0x11, 0, 0, 0x0E, 0x10, 0x15] + field(utf8("PLAIN")) + [0x16] + field([1, 2, 3])
        let willProperties: [UInt8] = [0x09] + field([9, 9]) + [0x08] + field(utf8("reply/here"))
        let expected = MQTTConnect(
            version: .v5, clientID: "c", will: MQTTWill(topic: "w", payload: [], properties: willProperties),
            properties: properties)
        expectByteByByte(v5Packet(properties: properties, willProperties: willProperties), parsesTo: expected)
    }
}
