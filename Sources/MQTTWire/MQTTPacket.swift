/// Small fixed packets and minimal encoders for health checks, the load generator and tests.
///
/// The proxy relays client packets untouched; nothing here is on its data path. Callable from any thread.
public enum MQTTPacket {
    /// PINGREQ (MQTT 3.1.1 §3.12, MQTT 5.0 §3.12).
    public static let pingReq: [UInt8] = [0xC0, 0x00]
    /// PINGRESP (MQTT 3.1.1 §3.13, MQTT 5.0 §3.13).
    public static let pingResp: [UInt8] = [0xD0, 0x00]
    /// DISCONNECT (MQTT 3.1.1 §3.14); in 5.0 (§3.14.2.1) an empty body means reason 0x00, normal.
    public static let disconnect: [UInt8] = [0xE0, 0x00]

    /// A QoS 0 PUBLISH (MQTT 3.1.1 §3.3, MQTT 5.0 §3.3): no packet identifier; for 5.0 an empty property
    /// block follows the topic.
    ///
    /// - Precondition: the topic is at most 65,535 bytes.
    public static func publish(
        topic: String, payload: [UInt8], retain: Bool = false, version: MQTTProtocolVersion = .v3_1_1
    ) -> [UInt8] {
        var body: [UInt8] = []
        body.appendMQTTString(topic, field: "topic name")
        if version == .v5 { body.append(0x00) }
        body.append(contentsOf: payload)
        return frame(type: 0x30 | (retain ? 0x01 : 0x00), body: body)
    }

    /// A SUBSCRIBE to one topic filter at QoS 0 (MQTT 3.1.1 §3.8, MQTT 5.0 §3.8); fixed-header flags are
    /// 0b0010 as required. `packetID` must not be 0 (§2.3.1).
    ///
    /// - Precondition: the filter is at most 65,535 bytes.
    public static func subscribe(
        packetID: UInt16, topicFilter: String, version: MQTTProtocolVersion = .v3_1_1
    ) -> [UInt8] {
        var body: [UInt8] = []
        body.appendMQTTUInt16(packetID)
        if version == .v5 { body.append(0x00) }
        body.appendMQTTString(topicFilter, field: "topic filter")
        // Requested QoS 0; in 5.0 the same byte holds the other subscription options, all 0.
        body.append(0x00)
        return frame(type: 0x82, body: body)
    }

    /// Prefixes `body` with its fixed header: `type` byte then the Remaining Length.
    /// An MQTT 5 server's DISCONNECT (5.0 §3.14) with `reasonCode` (0x8B "Server shutting down",
    /// 0x9C "Use another server") and, when given, a Server Reference (property 0x1C) telling the
    /// client where to go. A reference over 65,535 UTF-8 bytes is left out (config refuses one).
    public static func serverDisconnect(reasonCode: UInt8, serverReference: String?) -> [UInt8] {
        var properties: [UInt8] = []
        if let serverReference, !serverReference.isEmpty, serverReference.utf8.count <= 0xFFFF {
            properties.append(0x1C)
            properties.appendMQTTString(serverReference, field: "Server Reference")
        }
        var body: [UInt8] = [reasonCode]
        MQTTVarInt.append(properties.count, to: &body)
        body += properties
        return frame(type: 0xE0, body: body)
    }

    private static func frame(type: UInt8, body: [UInt8]) -> [UInt8] {
        var packet: [UInt8] = [type]
        MQTTVarInt.append(body.count, to: &packet)
        packet.append(contentsOf: body)
        return packet
    }
}
