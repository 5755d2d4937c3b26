/// What the first server→client packet says about Server Keep Alive (MQTT 5.0 §3.2.2.3.14).
public enum ConnAckKeepAlive: Equatable, Sendable {
    /// The bytes so far are a valid prefix of a CONNACK; read more.
    case needMoreData
    /// A complete CONNACK without Server Keep Alive: a 3.1/3.1.1 CONNACK (Remaining Length 2), or a 5.0 one
    /// that leaves the client's Keep Alive in force.
    case absent
    /// A complete 5.0 CONNACK carrying Server Keep Alive, in seconds; the client must use it instead of its own.
    case value(UInt16)
    /// The first packet's type is not CONNACK (2).
    case notConnAck
    /// A CONNACK that breaks the format: bad flags, lengths that disagree, an unknown or repeated property, a
    /// value out of range. The caller should treat the session as broken.
    case malformed
}

extension MQTTConnAck {
    /// Reads Server Keep Alive from the CONNACK at the start of `bytes`, everything the broker has sent so far.
    ///
    /// Pure and stateless like ``MQTTConnectParser``: call it again with more bytes after
    /// ``ConnAckKeepAlive/needMoreData``. A verdict comes as early as the bytes allow (a wrong packet type on
    /// the first byte, a bad property as soon as it is read); a value or ``ConnAckKeepAlive/absent`` only once
    /// the whole CONNACK is in. Bytes after the CONNACK are not looked at. The Remaining Length may announce up
    /// to 256 MiB, so the caller bounds how much it buffers. Callable from any thread.
    public static func serverKeepAlive(_ bytes: [UInt8]) -> ConnAckKeepAlive {
        bytes.withUnsafeBytes { buffer in
            do throws(ReadStop) {
                return try keepAlive(in: buffer)
            } catch .needMoreData {
                return .needMoreData
            } catch {
                return .malformed
            }
        }
    }

    /// MQTT 5.0 §3.2: fixed header, variable header, properties; throws `needMoreData` or `invalid`.
    private static func keepAlive(in bytes: UnsafeRawBufferPointer) throws(ReadStop) -> ConnAckKeepAlive {
        // MQTT 3.1.1 §3.2.1 / MQTT 5.0 §3.2.1: type 2 in the high nibble, reserved flags 0 in the low one.
        guard let first = bytes.first else { return .needMoreData }
        guard first >> 4 == fixedHeaderByte >> 4 else { return .notConnAck }
        guard first == fixedHeaderByte else { return .malformed }
        // MQTT 5.0 §2.1.4: Remaining Length, a Variable Byte Integer of at most 4 bytes.
        var header = ByteReader(bytes: bytes, position: 1, limit: 1 + MQTTVarInt.maxLength)
        let remaining = try header.readVarInt(field: "Remaining Length")
        guard remaining >= 2 else { return .malformed }
        var reader = ByteReader(bytes: bytes, position: header.position, limit: header.position + remaining)
        // MQTT 5.0 §3.2.2.1: Connect Acknowledge Flags, bits 7–1 reserved and 0; §3.2.2.2 the reason code.
        let flags = try reader.readByte(field: "Connect Acknowledge Flags")
        guard flags & 0xFE == 0 else { return .malformed }
        _ = try reader.readByte(field: "Connect Reason Code")
        // MQTT 3.1.1 §3.2: a 3.x CONNACK ends here, and has no properties.
        if remaining == 2 { return .absent }
        // MQTT 5.0 §3.2.2.3.1: Property Length, then exactly that many bytes of properties ending the packet
        // (a CONNACK has no payload, §3.2.3).
        let propertyLength = try reader.readVarInt(field: "Property Length")
        guard reader.position + propertyLength == reader.limit else { return .malformed }
        return try properties(&reader)
    }

    /// MQTT 5.0 §3.2.2.3: reads every property up to the end of the packet, keeping Server Keep Alive.
    private static func properties(_ reader: inout ByteReader) throws(ReadStop) -> ConnAckKeepAlive {
        var keepAlive: UInt16?
        // Every CONNACK identifier is below 0x30, so one bit each records what was seen (§2.2.2.2: only User
        // Property may appear more than once).
        var seen: UInt64 = 0
        while reader.position < reader.limit {
            let identifier = try reader.readVarInt(field: "property identifier")
            guard identifier < 64, let kind = connAckPropertyKind(identifier) else { return .malformed }
            let bit: UInt64 = 1 << UInt64(identifier)
            guard seen & bit == 0 || identifier == 0x26 else { return .malformed }
            seen |= bit
            switch kind {
            case .boolean:
                guard try reader.readByte(field: "property") <= 1 else { return .malformed }
            case .twoByte:
                let value = try reader.readUInt16(field: "property")
                if identifier == 0x13 { keepAlive = value }
                // §3.2.2.3.3: Receive Maximum 0 is a Protocol Error.
                if identifier == 0x21 && value == 0 { return .malformed }
            case .fourByte:
                let value = try reader.readUInt32(field: "property")
                // §3.2.2.3.6: Maximum Packet Size 0 is a Protocol Error.
                if identifier == 0x27 && value == 0 { return .malformed }
            case .string:
                _ = try reader.readString(field: "property")
            case .binary:
                _ = try reader.readBinary(field: "property")
            case .stringPair:
                _ = try reader.readString(field: "User Property name")
                _ = try reader.readString(field: "User Property value")
            }
        }
        return keepAlive.map { .value($0) } ?? .absent
    }

    /// How a CONNACK property value is encoded (MQTT 5.0 §2.2.2.2).
    private enum PropertyKind {
        /// A Byte that must be 0 or 1 (Maximum QoS included: §3.2.2.3.4 allows only 0 or 1 there).
        case boolean
        /// Two Byte Integer, §1.5.2.
        case twoByte
        /// Four Byte Integer, §1.5.3.
        case fourByte
        /// UTF-8 Encoded String, §1.5.4.
        case string
        /// Binary Data, §1.5.6.
        case binary
        /// UTF-8 String Pair, §1.5.7.
        case stringPair
    }

    /// MQTT 5.0 §3.2.2.3.2–18: the properties a CONNACK may carry; nil for any other identifier.
    private static func connAckPropertyKind(_ identifier: Int) -> PropertyKind? {
        switch identifier {
        // Session Expiry Interval, Maximum Packet Size.
        case 0x11, 0x27: .fourByte
        // Receive Maximum, Topic Alias Maximum, Server Keep Alive.
        case 0x21, 0x22, 0x13: .twoByte
        // Maximum QoS; Retain, Wildcard Subscription, Subscription Identifier, Shared Subscription Available.
        case 0x24, 0x25, 0x28, 0x29, 0x2A: .boolean
        // Assigned Client Identifier, Reason String, Response Information, Server Reference, Authentication
        // Method.
        case 0x12, 0x1F, 0x1A, 0x1C, 0x15: .string
        // Authentication Data.
        case 0x16: .binary
        // User Property.
        case 0x26: .stringPair
        default: nil
        }
    }
}

/// The broker's first bytes, gathered until its CONNACK says whether it carries a Server Keep Alive
/// (MQTT 5.0 §3.2.2.3.14). At most ``limit`` bytes are kept: the Remaining Length may announce far
/// more, and only the first packet is looked at. Feed it what the broker sends, in order.
public struct ConnAckKeepAliveProbe: Sendable {
    /// The most bytes buffered; a CONNACK not complete by then ends the probe without a value.
    public static let limit = 4096
    private var bytes: [UInt8] = []

    public init() {}

    /// Adds the broker's next bytes: nil while the CONNACK is incomplete, else the verdict, after
    /// which the probe is done (``ConnAckKeepAlive/needMoreData`` once ``limit`` bytes gave none).
    public mutating func feed(_ read: some Collection<UInt8>) -> ConnAckKeepAlive? {
        bytes.append(contentsOf: read.prefix(max(0, Self.limit - bytes.count)))
        let verdict = MQTTConnAck.serverKeepAlive(bytes)
        if verdict == .needMoreData, bytes.count < Self.limit { return nil }
        return verdict
    }
}
