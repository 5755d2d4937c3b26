import MQTTWire

/// One MQTT control packet as read off the wire: the fixed-header byte and the body after the
/// Remaining Length (MQTT 3.1.1 §2.2, MQTT 5.0 §2.1).
public struct MQTTTestPacket: Sendable, Equatable {
    /// First byte: type in the high nibble, flags in the low one.
    public var header: UInt8
    /// Everything after the Remaining Length.
    public var body: [UInt8]

    /// A packet from its fixed-header byte and body.
    public init(header: UInt8, body: [UInt8]) {
        self.header = header
        self.body = body
    }

    /// Control packet type, 1...15 (3 = PUBLISH, 9 = SUBACK, 13 = PINGRESP).
    public var type: UInt8 { header >> 4 }

    /// The packet as bytes again (header, Remaining Length, body).
    public var bytes: [UInt8] {
        [header] + MQTTVarInt.encode(body.count) + body
    }

    /// Topic and payload of a PUBLISH (MQTT 3.1.1 §3.3.2, MQTT 5.0 §3.3.2): topic string, a packet id
    /// when QoS > 0, for 5.0 a property block; the rest is payload. Nil when not a well-formed PUBLISH.
    public func publish(version: MQTTProtocolVersion) -> (topic: String, payload: [UInt8])? {
        guard type == 3, body.count >= 2 else { return nil }
        let topicLength = Int(body[0]) << 8 | Int(body[1])
        var offset = 2 + topicLength
        guard body.count >= offset else { return nil }
        let topic = String(decoding: body[2..<offset], as: UTF8.self)
        let qos = (header >> 1) & 0x03
        if qos > 0 { offset += 2 }
        if version == .v5 {
            guard case .value(let length, let size) = MQTTVarInt.decode(body, from: offset) else { return nil }
            offset += size + length
        }
        guard body.count >= offset else { return nil }
        return (topic, Array(body[offset...]))
    }

    /// Packet id and return codes of a SUBACK (MQTT 3.1.1 §3.9, MQTT 5.0 §3.9; 5.0 properties skipped).
    public func subAck(version: MQTTProtocolVersion) -> (packetID: UInt16, codes: [UInt8])? {
        guard type == 9, body.count >= 3 else { return nil }
        let packetID = UInt16(body[0]) << 8 | UInt16(body[1])
        var offset = 2
        if version == .v5 {
            guard case .value(let length, let size) = MQTTVarInt.decode(body, from: offset) else { return nil }
            offset += size + length
        }
        guard body.count >= offset else { return nil }
        return (packetID, Array(body[offset...]))
    }
}
