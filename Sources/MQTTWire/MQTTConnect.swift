/// The MQTT protocol revision a CONNECT announced (protocol level byte).
public enum MQTTProtocolVersion: UInt8, Sendable, Equatable, CaseIterable {
    /// MQTT 3.1, protocol name `MQIsdp`, level 3.
    case v3_1 = 3
    /// MQTT 3.1.1, protocol name `MQTT`, level 4.
    case v3_1_1 = 4
    /// MQTT 5.0, protocol name `MQTT`, level 5.
    case v5 = 5
}

/// The Will message carried in a CONNECT (MQTT 3.1.1 §3.1.3.2–3, MQTT 5.0 §3.1.3.2–4).
public struct MQTTWill: Sendable, Equatable {
    /// Topic the broker publishes the Will to.
    public var topic: String
    /// Will payload, opaque bytes.
    public var payload: [UInt8]
    /// Will QoS, 0...2 in a valid packet (the encoder writes whatever is set, so tests can build bad packets).
    public var qos: UInt8
    /// Will Retain flag.
    public var retain: Bool
    /// MQTT 5.0 Will properties, raw (already length-checked); empty for 3.x.
    public var properties: [UInt8]

    /// Builds a Will; `properties` are raw MQTT 5.0 Will property bytes without their length prefix.
    public init(topic: String, payload: [UInt8], qos: UInt8 = 0, retain: Bool = false, properties: [UInt8] = []) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }
}

/// A parsed CONNECT packet: what the front routes on. The proxy forwards the original bytes, never a re-encoding.
public struct MQTTConnect: Sendable, Equatable {
    /// Protocol revision from the protocol name/level pair.
    public var version: MQTTProtocolVersion
    /// Clean Session (3.x) / Clean Start (5.0).
    public var cleanStart: Bool
    /// Keep Alive in seconds; 0 means the client sends no keepalive.
    public var keepAlive: UInt16
    /// May be empty (3.1.1 with clean session, 5.0 always).
    public var clientID: String
    /// User Name, present when the User Name flag is set.
    public var username: String?
    /// Password (binary data), present when the Password flag is set.
    public var password: [UInt8]?
    /// The Will, present when the Will flag is set.
    public var will: MQTTWill?
    /// MQTT 5.0 CONNECT properties, raw (length-checked, each property validated); empty for 3.x.
    public var properties: [UInt8]

    /// Builds a CONNECT; `properties` are raw MQTT 5.0 CONNECT property bytes without their length prefix.
    public init(
        version: MQTTProtocolVersion,
        cleanStart: Bool = true,
        keepAlive: UInt16 = 60,
        clientID: String,
        username: String? = nil,
        password: [UInt8]? = nil,
        will: MQTTWill? = nil,
        properties: [UInt8] = []
    ) {
        self.version = version
        self.cleanStart = cleanStart
        self.keepAlive = keepAlive
        self.clientID = clientID
        self.username = username
        self.password = password
        self.will = will
        self.properties = properties
    }
}

/// Outcome of feeding bytes to ``MQTTConnectParser``.
public enum MQTTConnectParseResult: Sendable, Equatable {
    /// Not enough bytes yet to decide; read more.
    case needMoreData
    /// A whole valid CONNECT occupying the first `length` bytes.
    case complete(MQTTConnect, length: Int)
    /// The bytes can never become a valid CONNECT: close the connection.
    case invalid(MQTTConnectError)
}
