import MQTTWire
import Testing

@Suite("CONNACK Server Keep Alive (MQTT 5.0 §3.2.2.3.14)")
struct ConnAckKeepAliveTests {
    /// A 5.0 CONNACK written by hand: fixed header, flags, reason code, Property Length, properties.
    static func connAck(_ properties: [UInt8], flags: UInt8 = 0, reason: UInt8 = 0) -> [UInt8] {
        let body = [flags, reason] + MQTTVarInt.encode(properties.count) + properties
        return [0x20] + MQTTVarInt.encode(body.count) + body
    }

    /// One of each property a CONNACK may carry except Server Keep Alive, in identifier order.
    static let everyOtherProperty: [UInt8] =
        [0x11, 0x00, 0x00, 0x0E, 0x10]  // Session Expiry Interval 3600
        + [0x12] + field(utf8("auto-1"))  // Assigned Client Identifier
        + [0x15] + field(utf8("SCRAM-SHA-1"))  // Authentication Method
        + [0x16] + field([0x00, 0xFF])  // Authentication Data
        + [0x1A] + field(utf8("resp/"))  // Response Information
        + [0x1C] + field(utf8("other:1883"))  // Server Reference
        + [0x1F] + field(utf8("ok"))  // Reason String
        + [0x21, 0x00, 0x14]  // Receive Maximum 20
        + [0x22, 0x00, 0x0A]  // Topic Alias Maximum 10
        + [0x24, 0x01]  // Maximum QoS 1
        + [0x25, 0x00]  // Retain Available 0
        + [0x26] + field(utf8("k")) + field(utf8("v"))  // User Property
        + [0x26] + field(utf8("k")) + field(utf8("v2"))  // User Property again: allowed
        + [0x27, 0x00, 0x10, 0x00, 0x00]  // Maximum Packet Size 1 MiB
        + [0x28, 0x01]  // Wildcard Subscription Available
        + [0x29, 0x01]  // Subscription Identifiers Available
        + [0x2A, 0x00]  // Shared Subscription Available

    /// Every strict prefix needs more data; the whole, and the whole followed by a PUBLISH, give `expected`.
    static func expectByteByByte(
        _ bytes: [UInt8], gives expected: ConnAckKeepAlive, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for count in 0..<bytes.count {
            let result = MQTTConnAck.serverKeepAlive(Array(bytes[..<count]))
            #expect(result == .needMoreData, "prefix of \(count) bytes", sourceLocation: sourceLocation)
        }
        #expect(MQTTConnAck.serverKeepAlive(bytes) == expected, sourceLocation: sourceLocation)
        let pipelined = bytes + MQTTPacket.publish(topic: "t", payload: [1], version: .v5)
        #expect(MQTTConnAck.serverKeepAlive(pipelined) == expected, sourceLocation: sourceLocation)
    }

    /// The shortest prefix on which the reader stops answering `needMoreData`, and its answer.
    static func firstVerdict(_ bytes: [UInt8]) -> (prefixLength: Int, result: ConnAckKeepAlive) {
        for count in 0...bytes.count {
            let result = MQTTConnAck.serverKeepAlive(Array(bytes[..<count]))
            if result != .needMoreData { return (count, result) }
        }
        return (bytes.count, .needMoreData)
    }

    @Test("Server Keep Alive alone", arguments: [0, 1, 30, 0xFFFF] as [UInt16])
    func alone(seconds: UInt16) {
        let bytes = Self.connAck([0x13, UInt8(seconds >> 8), UInt8(seconds & 0xFF)])
        Self.expectByteByByte(bytes, gives: .value(seconds))
    }

    @Test("Server Keep Alive among every other CONNACK property, first, middle or last")
    func amongOthers() {
        let keepAlive: [UInt8] = [0x13, 0x00, 0x3C]
        let others = Self.everyOtherProperty
        Self.expectByteByByte(Self.connAck(keepAlive + others), gives: .value(60))
        Self.expectByteByByte(Self.connAck(others + keepAlive), gives: .value(60))
        Self.expectByteByByte(Self.connAck(Array(others[..<5]) + keepAlive + others[5...]), gives: .value(60))
        // A refusal may carry it too; the reader does not judge the reason code.
        Self.expectByteByByte(Self.connAck(keepAlive, flags: 0, reason: 0x88), gives: .value(60))
    }

    @Test("a 5.0 CONNACK without Server Keep Alive is absent")
    func absentV5() {
        Self.expectByteByByte(Self.connAck(Self.everyOtherProperty), gives: .absent)
        Self.expectByteByByte(MQTTConnAck.bytes(version: .v5, returnCode: 0), gives: .absent)
        Self.expectByteByByte(MQTTConnAck.bytes(version: .v5, returnCode: 0, sessionPresent: true), gives: .absent)
    }

    @Test("3.1 and 3.1.1 CONNACKs (Remaining Length 2) are absent")
    func absentV3() {
        Self.expectByteByByte([0x20, 0x02, 0x00, 0x00], gives: .absent)
        Self.expectByteByByte([0x20, 0x02, 0x01, 0x05], gives: .absent)
        Self.expectByteByByte(MQTTConnAck.bytes(version: .v3_1, refusal: .serverUnavailable), gives: .absent)
    }

    @Test("a multi-byte Remaining Length and Property Length")
    func longPacket() {
        let reason = [UInt8](repeating: UInt8(ascii: "r"), count: 300)
        let bytes = Self.connAck([0x1F] + field(reason) + [0x13, 0x01, 0x00])
        #expect(bytes[1] & 0x80 != 0)
        Self.expectByteByByte(bytes, gives: .value(256))
    }

    @Test(
        "a first packet of another type is not a CONNACK, known from its first byte",
        arguments: [0x10, 0x30, 0x31, 0x90, 0xD0, 0xE0, 0x00, 0xF0] as [UInt8])
    func notConnAck(first: UInt8) {
        let verdict = Self.firstVerdict([first, 0x02, 0x00, 0x00])
        #expect(verdict.prefixLength == 1)
        #expect(verdict.result == .notConnAck)
    }

    /// Bad CONNACKs, and how many bytes the reader needs to say so.
    static let malformed: [([UInt8], Int)] = [
        ([0x21, 0x02, 0x00, 0x00], 1),  // reserved fixed-header flags set
        ([0x2F, 0x02, 0x00, 0x00], 1),
        ([0x20, 0x00], 2),  // Remaining Length below 2
        ([0x20, 0x01, 0x00], 2),
        ([0x20, 0x80, 0x80, 0x80, 0x80, 0x01], 5),  // Remaining Length longer than 4 bytes
        ([0x20, 0x02, 0x02, 0x00], 3),  // reserved acknowledge flag bits set
        ([0x20, 0x03, 0x80, 0x00, 0x00], 3),
        (connAck([0x01, 0x00]), 6),  // Payload Format Indicator: not a CONNACK property
        (connAck([0x17, 0x01]), 6),  // Request Problem Information: CONNECT only
        (connAck([0x00]), 6),  // identifier 0
        (connAck([0x80, 0x80, 0x80, 0x80, 0x01]), 9),  // identifier varint too long
        (connAck([0x13, 0x00, 0x01, 0x13, 0x00, 0x02]), 9),  // Server Keep Alive twice
        (connAck([0x21, 0x00, 0x01, 0x21, 0x00, 0x02]), 9),  // Receive Maximum twice
        (connAck([0x21, 0x00, 0x00]), 8),  // Receive Maximum 0
        (connAck([0x27, 0x00, 0x00, 0x00, 0x00]), 10),  // Maximum Packet Size 0
        (connAck([0x24, 0x02]), 7),  // Maximum QoS 2
        (connAck([0x25, 0x02]), 7),  // Retain Available not 0/1
        (connAck([0x1F, 0x00, 0x02, 0xC3, 0x28]), 10),  // Reason String not UTF-8
        (connAck([0x1F, 0x00, 0x01, 0x00]), 9),  // Reason String with U+0000
        ([0x20, 0x05, 0x00, 0x00, 0x03, 0x13, 0x00], 5),  // Property Length past the packet
        ([0x20, 0x06, 0x00, 0x00, 0x01, 0x13, 0x00, 0x01], 5),  // Property Length short of the packet
        // Server Keep Alive cut by the block's end: known from its identifier.
        ([0x20, 0x05, 0x00, 0x00, 0x02, 0x13, 0x00], 6),
        ([0x20, 0x07, 0x00, 0x00, 0x04, 0x1F, 0x00, 0x05, 0x61], 8),  // string past the block
        ([0x20, 0x03, 0x00, 0x00, 0x80], 5),  // Property Length varint cut by the packet's end
    ]

    @Test("malformed CONNACKs are refused as soon as the bad byte arrives", arguments: malformed)
    func malformedConnAck(bytes: [UInt8], decidedAfter: Int) {
        let verdict = Self.firstVerdict(bytes)
        #expect(verdict.result == .malformed)
        #expect(verdict.prefixLength == decidedAfter)
    }

    @Test("nothing received needs more data")
    func empty() {
        #expect(MQTTConnAck.serverKeepAlive([]) == .needMoreData)
    }

    @Test("5,000 seeded random inputs never trap, and a value needs a whole CONNACK")
    func randomInputs() {
        var rng = SplitMix64(seed: 0xC0_44AC)
        let seeds = [
            Self.connAck([0x13, 0x00, 0x3C] + Self.everyOtherProperty), Self.connAck(Self.everyOtherProperty),
            [0x20, 0x02, 0x00, 0x00],
        ]
        for _ in 0..<5_000 {
            var bytes = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
            for _ in 0..<Int.random(in: 0...3, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            bytes = Array(bytes[..<Int.random(in: 0...bytes.count, using: &rng)])
            let result = MQTTConnAck.serverKeepAlive(bytes)
            if case .value = result {
                #expect(MQTTConnAck.parse(bytes) != nil)
            }
        }
    }
}

/// The bounded accumulator both relay paths feed the broker's first bytes to.
@Suite("CONNACK keep-alive probe")
struct ConnAckKeepAliveProbeTests {
    @Test("fed byte by byte: nil until the CONNACK is whole, then its Server Keep Alive")
    func byteByByte() {
        let connack: [UInt8] = [0x20, 0x06, 0x00, 0x00, 0x03, 0x13, 0x00, 0x0A]
        var probe = ConnAckKeepAliveProbe()
        for byte in connack.dropLast() { #expect(probe.feed([byte]) == nil) }
        #expect(probe.feed([connack.last ?? 0]) == .value(10))
    }

    @Test("a 3.1.1 CONNACK has none; a CONNACK still incomplete at the 4 KiB bound ends the probe")
    func absentAndBounded() {
        var plain = ConnAckKeepAliveProbe()
        #expect(plain.feed([0x20, 0x02, 0x00, 0x00]) == .absent)
        // A 5.0 CONNACK announcing 16 KiB of properties: the probe gives up at its bound.
        var huge = ConnAckKeepAliveProbe()
        #expect(huge.feed([0x20, 0x80, 0x80, 0x01, 0x00, 0x00]) == nil)
        #expect(huge.feed([UInt8](repeating: 0x26, count: ConnAckKeepAliveProbe.limit)) != nil)
    }
}
