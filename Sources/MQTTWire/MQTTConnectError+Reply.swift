extension MQTTConnectError {
    /// What a broker answers a client whose CONNECT has this error, before it closes the connection:
    /// a CONNACK, or nothing (a close alone).
    ///
    /// `version` is the protocol the CONNECT announced (``MQTTConnectParser/announcedVersion(_:)``), nil
    /// when it could not be read.
    /// - MQTT 3.1 and 3.1.1: a CONNECT that breaks the rules is closed without a CONNACK (3.1.1 §3.1.4,
    ///   §4.8); only a protocol level the server does not support gets return code 1 (3.1.1 §3.1.2.2) and
    ///   an MQTT 3.1 client id of the wrong length return code 2 (MQTT 3.1, "CONNACK").
    /// - MQTT 5.0: the server may send a CONNACK with a reason code of 0x80 or more before the close
    ///   (5.0 §3.1.4, §4.13.1): 0x81 Malformed Packet or 0x82 Protocol Error, as the spec names each rule
    ///   (``v5ReasonCode``).
    /// - Whatever is decided before the protocol level is read (not a CONNECT, a bad fixed header, a
    ///   size over the limit): a close alone, since the client's version is unknown.
    public func reply(version: MQTTProtocolVersion?) -> [UInt8] {
        switch self {
        case .unsupportedProtocol(let name, _) where name == "MQTT" || name == "MQIsdp":
            return MQTTConnAck.bytes(version: .v3_1_1, returnCode: 0x01)
        case .clientIdentifierLength:
            return MQTTConnAck.bytes(version: .v3_1, refusal: .clientIdentifierRejected)
        default:
            guard version == .v5, let code = v5ReasonCode else { return [] }
            return MQTTConnAck.bytes(version: .v5, returnCode: code)
        }
    }

    /// The MQTT 5.0 CONNACK reason code for this error: 0x81 Malformed Packet (the bytes break the
    /// packet's format: flags, lengths, UTF-8, property identifiers, 5.0 §1.5.4–5, §2.2.2.2,
    /// §3.1.2.3–7) or 0x82 Protocol Error (well-formed, but data the protocol forbids: a property twice,
    /// a property value out of range, an empty or wildcard Will Topic, 5.0 §3.1.2.11, §3.1.3.2–3,
    /// §4.7). Nil for what is decided before a 5.0 CONNECT can be recognised.
    public var v5ReasonCode: UInt8? {
        switch self {
        case .notConnect, .badFixedHeaderFlags, .malformedRemainingLength, .tooLarge, .unsupportedProtocol,
            .clientIdentifierLength:
            nil
        case .reservedFlagSet, .invalidConnectFlags, .lengthMismatch, .invalidUTF8, .invalidProperty,
            .variableByteIntegerTooLong:
            0x81
        case .duplicateProperty, .invalidField:
            0x82
        }
    }
}
