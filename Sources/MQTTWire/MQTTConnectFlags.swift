/// The Connect Flags byte (MQTT 3.1.1 §3.1.2.3, MQTT 5.0 §3.1.2.3), shared by the parser and the encoder.
///
/// Bit 7 User Name, 6 Password, 5 Will Retain, 4–3 Will QoS, 2 Will, 1 Clean Session/Start, 0 reserved.
struct MQTTConnectFlags {
    /// The byte as on the wire.
    var rawValue: UInt8

    static let username: UInt8 = 0x80
    static let password: UInt8 = 0x40
    static let willRetain: UInt8 = 0x20
    static let will: UInt8 = 0x04
    static let cleanStart: UInt8 = 0x02
    static let reserved: UInt8 = 0x01

    /// Wraps a byte read from the wire.
    init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// The flags that describe `connect`; Will QoS is masked to its two bits.
    init(_ connect: MQTTConnect) {
        var raw: UInt8 = 0
        if connect.username != nil { raw |= Self.username }
        if connect.password != nil { raw |= Self.password }
        if let will = connect.will {
            raw |= Self.will | (will.qos & 0x03) << 3
            if will.retain { raw |= Self.willRetain }
        }
        if connect.cleanStart { raw |= Self.cleanStart }
        self.rawValue = raw
    }

    var hasUsername: Bool { rawValue & Self.username != 0 }
    var hasPassword: Bool { rawValue & Self.password != 0 }
    var willRetain: Bool { rawValue & Self.willRetain != 0 }
    var willQoS: UInt8 { (rawValue >> 3) & 0x03 }
    var hasWill: Bool { rawValue & Self.will != 0 }
    var cleanStart: Bool { rawValue & Self.cleanStart != 0 }

    /// MQTT 3.1.1 §3.1.2.3, §3.1.2.6–7, §3.1.2.9 / MQTT 5.0 §3.1.2.3, §3.1.2.6–7, §3.1.2.9: the rules the
    /// flags must keep on their own. The reserved bit must be 0; Will QoS must not be 3; Will QoS and Will
    /// Retain must be 0 without the Will flag; before 5.0 a Password needs a User Name (5.0 allows it alone).
    func validate(version: MQTTProtocolVersion) -> MQTTConnectError? {
        if rawValue & Self.reserved != 0 { return .reservedFlagSet }
        if willQoS == 3 { return .invalidConnectFlags(rawValue) }
        if !hasWill && (willQoS != 0 || willRetain) { return .invalidConnectFlags(rawValue) }
        if version != .v5 && hasPassword && !hasUsername { return .invalidConnectFlags(rawValue) }
        return nil
    }
}
