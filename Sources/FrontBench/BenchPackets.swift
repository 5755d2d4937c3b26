import MQTTWire

/// The few packets the load generator and the sink build or read beyond MQTTWire's helpers.
///
/// Pure; callable from any thread. The PUBLISH payload starts with the sender's monotonic send time
/// (8 bytes, big endian, nanoseconds) so the subscriber can measure the round trip.
public enum BenchPackets {
    /// A PUBLISH at QoS 0 or 1 (MQTT 3.1.1 §3.3, MQTT 5.0 §3.3) whose payload is `sentAt` then zero
    /// padding up to `payloadSize` (at least 8 bytes). `packetID` is used only for QoS 1 (§2.3.1: not 0).
    public static func publish(
        topic: String, sentAt: UInt64, payloadSize: Int, qos: UInt8, packetID: UInt16,
        version: MQTTProtocolVersion
    ) -> [UInt8] {
        let topicBytes = Array(topic.utf8)
        let size = max(8, payloadSize)
        var body: [UInt8] = []
        body.reserveCapacity(2 + topicBytes.count + 3 + size)
        body.append(UInt8(topicBytes.count >> 8))
        body.append(UInt8(topicBytes.count & 0xFF))
        body.append(contentsOf: topicBytes)
        if qos > 0 {
            body.append(UInt8(packetID >> 8))
            body.append(UInt8(packetID & 0xFF))
        }
        if version == .v5 { body.append(0x00) }
        for shift in stride(from: 56, through: 0, by: -8) {
            body.append(UInt8(truncatingIfNeeded: sentAt >> UInt64(shift)))
        }
        body.append(contentsOf: repeatElement(0, count: size - 8))
        var packet: [UInt8] = [0x30 | (qos & 0x03) << 1]
        MQTTVarInt.append(body.count, to: &packet)
        packet.append(contentsOf: body)
        return packet
    }

    /// What a received PUBLISH carried that the bench needs.
    public struct ReceivedPublish: Sendable, Equatable {
        /// QoS from the fixed header.
        public var qos: UInt8
        /// Packet identifier, 0 for QoS 0.
        public var packetID: UInt16
        /// The send time from the payload, nil when the payload is shorter than 8 bytes.
        public var sentAt: UInt64?
    }

    /// Reads a PUBLISH `body` (after the fixed header) sent with `header`; nil when it is cut short.
    public static func parsePublish(
        header: UInt8, body: UnsafeRawBufferPointer, version: MQTTProtocolVersion
    ) -> ReceivedPublish? {
        let qos = (header >> 1) & 0x03
        guard body.count >= 2 else { return nil }
        var offset = 2 + (Int(body[0]) << 8 | Int(body[1]))
        var packetID: UInt16 = 0
        if qos > 0 {
            guard body.count >= offset + 2 else { return nil }
            packetID = UInt16(body[offset]) << 8 | UInt16(body[offset + 1])
            offset += 2
        }
        if version == .v5 {
            guard case .value(let propertyLength, let length) = MQTTVarInt.decode(body, from: offset) else {
                return nil
            }
            offset += length + propertyLength
        }
        guard body.count >= offset else { return nil }
        var sentAt: UInt64?
        if body.count - offset >= 8 {
            var value: UInt64 = 0
            for index in offset..<(offset + 8) { value = value << 8 | UInt64(body[index]) }
            sentAt = value
        }
        return ReceivedPublish(qos: qos, packetID: packetID, sentAt: sentAt)
    }

    /// PUBACK for `packetID` (MQTT 3.1.1 §3.4; in 5.0 §3.4.2.1 a 2-byte body means reason 0, success).
    public static func pubAck(packetID: UInt16) -> [UInt8] {
        [0x40, 0x02, UInt8(packetID >> 8), UInt8(packetID & 0xFF)]
    }

    /// SUBACK granting QoS `granted` to one filter (MQTT 3.1.1 §3.9; 5.0 §3.9 adds an empty property block).
    public static func subAck(packetID: UInt16, granted: UInt8, version: MQTTProtocolVersion) -> [UInt8] {
        version == .v5
            ? [0x90, 0x04, UInt8(packetID >> 8), UInt8(packetID & 0xFF), 0x00, granted]
            : [0x90, 0x03, UInt8(packetID >> 8), UInt8(packetID & 0xFF), granted]
    }

    /// A SUBSCRIBE to one filter at `qos` (MQTT 3.1.1 §3.8, MQTT 5.0 §3.8).
    public static func subscribe(
        packetID: UInt16, topicFilter: String, qos: UInt8, version: MQTTProtocolVersion
    ) -> [UInt8] {
        var packet = MQTTPacket.subscribe(packetID: packetID, topicFilter: topicFilter, version: version)
        if let last = packet.indices.last { packet[last] = qos & 0x03 }
        return packet
    }

    /// The protocol level of a CONNECT `body` (MQTT 3.1.1 §3.1.2.1–2: protocol name, then the level byte);
    /// nil when the body is too short or the level unknown.
    public static func connectVersion(body: UnsafeRawBufferPointer) -> MQTTProtocolVersion? {
        guard body.count >= 2 else { return nil }
        let levelOffset = 2 + (Int(body[0]) << 8 | Int(body[1]))
        guard body.count > levelOffset else { return nil }
        return MQTTProtocolVersion(rawValue: body[levelOffset])
    }

    /// The packet-identifier of a SUBSCRIBE `body` (first two bytes, MQTT 3.1.1 §3.8.2).
    public static func packetID(body: UnsafeRawBufferPointer) -> UInt16? {
        guard body.count >= 2 else { return nil }
        return UInt16(body[0]) << 8 | UInt16(body[1])
    }
}
