/// Why bytes were not a valid CONNECT. Each case is one thing a person can look for in a capture.
///
/// ``reply(version:)`` gives what the client is answered before the close.
public enum MQTTConnectError: Error, Sendable, Equatable {
    /// The first packet's type was not CONNECT (1); carries the type nibble seen.
    case notConnect(packetType: UInt8)
    /// Fixed-header flags of CONNECT must be 0 (3.1.1 §2.2.2).
    case badFixedHeaderFlags(UInt8)
    /// The Remaining Length varint ran past 4 bytes (3.1.1 §2.2.3).
    case malformedRemainingLength
    /// The whole packet would exceed the configured maximum; carries the announced total length.
    case tooLarge(Int)
    /// Protocol name/level pair not one of MQIsdp/3, MQTT/4, MQTT/5.
    case unsupportedProtocol(name: String, level: UInt8)
    /// Reserved connect flag bit 0 was set (3.1.1 §3.1.2.3).
    case reservedFlagSet
    /// Will QoS 3, or Will QoS/Retain set without the Will flag, or password without username before 5.0.
    case invalidConnectFlags(UInt8)
    /// A length field inside the packet runs past the Remaining Length, or bytes are left over.
    case lengthMismatch(field: String)
    /// A string is not well-formed UTF-8 or contains U+0000 (3.1.1 §1.5.3).
    case invalidUTF8(field: String)
    /// An MQTT 5.0 property identifier not allowed in CONNECT (or in the Will) (5.0 §2.2.2.2).
    case invalidProperty(identifier: UInt32)
    /// An MQTT 5.0 property that may appear once appeared again (5.0 §3.1.2.11, §3.1.3.2).
    case duplicateProperty(identifier: UInt32)
    /// A Variable Byte Integer inside the packet ran past 4 bytes (5.0 §1.5.5).
    case variableByteIntegerTooLong(field: String)
    /// MQTT 3.1 allows a Client Identifier of 1 to 23 bytes; carries the length sent.
    case clientIdentifierLength(Int)
    /// A field breaks a rule of the protocol: a property value out of range, an empty Will Topic or one
    /// with a wildcard.
    case invalidField(field: String, reason: String)
}
