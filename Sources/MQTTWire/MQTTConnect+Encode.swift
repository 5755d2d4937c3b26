extension MQTTConnect {
    /// Encodes this CONNECT for its ``version``: protocol name `MQIsdp` for 3.1 and `MQTT` otherwise; for
    /// 5.0 the CONNECT and Will property blocks, each behind its Variable Byte Integer length.
    ///
    /// Used by health checks, the load generator and tests; the proxy itself forwards the client's bytes.
    /// Flags follow the values set (a password without a user name, a Will QoS of 3), so tests can build
    /// packets the parser must refuse. ``properties`` and ``MQTTWill/properties`` are ignored before 5.0.
    ///
    /// - Precondition: each string and binary field is at most 65,535 bytes (MQTT 3.1.1 §1.5.3).
    public func encode() -> [UInt8] {
        // MQTT 3.1.1 §3.1.2 / MQTT 5.0 §3.1.2: variable header.
        var body: [UInt8] = []
        body.appendMQTTString(version == .v3_1 ? "MQIsdp" : "MQTT", field: "protocol name")
        body.append(version.rawValue)
        body.append(MQTTConnectFlags(self).rawValue)
        body.appendMQTTUInt16(keepAlive)
        if version == .v5 {
            MQTTVarInt.append(properties.count, to: &body)
            body.append(contentsOf: properties)
        }
        // MQTT 3.1.1 §3.1.3 / MQTT 5.0 §3.1.3: payload, in this order.
        body.appendMQTTString(clientID, field: "client identifier")
        if let will {
            if version == .v5 {
                MQTTVarInt.append(will.properties.count, to: &body)
                body.append(contentsOf: will.properties)
            }
            body.appendMQTTString(will.topic, field: "will topic")
            body.appendMQTTBinary(will.payload, field: "will payload")
        }
        if let username {
            body.appendMQTTString(username, field: "user name")
        }
        if let password {
            body.appendMQTTBinary(password, field: "password")
        }
        // MQTT 3.1.1 §3.1.1 / MQTT 5.0 §3.1.1: fixed header, type 1, flags 0.
        var packet: [UInt8] = [0x10]
        MQTTVarInt.append(body.count, to: &packet)
        packet.append(contentsOf: body)
        return packet
    }
}
