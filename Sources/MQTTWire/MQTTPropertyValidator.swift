/// Checks an MQTT 5.0 property block (MQTT 5.0 §2.2.2): each identifier allowed where it appears, no
/// duplicate of a property that may appear once, each value of its type and in its range.
///
/// The block is validated in place and kept raw; nothing downstream needs the decoded values.
enum MQTTPropertyValidator {
    /// Where a property block sits, which decides the identifiers allowed in it.
    enum Scope {
        /// CONNECT properties, MQTT 5.0 §3.1.2.11.
        case connect
        /// Will properties, MQTT 5.0 §3.1.3.2.
        case will
    }

    /// How a property value is encoded (MQTT 5.0 §2.2.2.2) and which values are allowed.
    enum Kind {
        /// A Byte that must be 0 or 1.
        case boolean
        case twoByte
        case twoByteNonZero
        case fourByte
        case fourByteNonZero
        case string
        case binary
        /// UTF-8 String Pair (MQTT 5.0 §1.5.7); the only kind that may repeat (User Property).
        case stringPair
    }

    /// What a property is called in the spec and how its value is read.
    struct Rule {
        let name: String
        let kind: Kind
    }

    /// The rule for `identifier` in `scope`, or nil when the identifier is not allowed there.
    static func rule(for identifier: Int, in scope: Scope) -> Rule? {
        switch (scope, identifier) {
        // MQTT 5.0 §3.1.2.11.2–10
        case (.connect, 0x11): Rule(name: "Session Expiry Interval", kind: .fourByte)
        case (.connect, 0x21): Rule(name: "Receive Maximum", kind: .twoByteNonZero)
        case (.connect, 0x27): Rule(name: "Maximum Packet Size", kind: .fourByteNonZero)
        case (.connect, 0x22): Rule(name: "Topic Alias Maximum", kind: .twoByte)
        case (.connect, 0x19): Rule(name: "Request Response Information", kind: .boolean)
        case (.connect, 0x17): Rule(name: "Request Problem Information", kind: .boolean)
        case (.connect, 0x15): Rule(name: "Authentication Method", kind: .string)
        case (.connect, 0x16): Rule(name: "Authentication Data", kind: .binary)
        // MQTT 5.0 §3.1.3.2.2–7
        case (.will, 0x18): Rule(name: "Will Delay Interval", kind: .fourByte)
        case (.will, 0x01): Rule(name: "Payload Format Indicator", kind: .boolean)
        case (.will, 0x02): Rule(name: "Message Expiry Interval", kind: .fourByte)
        case (.will, 0x03): Rule(name: "Content Type", kind: .string)
        case (.will, 0x08): Rule(name: "Response Topic", kind: .string)
        case (.will, 0x09): Rule(name: "Correlation Data", kind: .binary)
        // MQTT 5.0 §3.1.2.11.8 / §3.1.3.2.8
        case (_, 0x26): Rule(name: "User Property", kind: .stringPair)
        default: nil
        }
    }

    /// MQTT 5.0 §2.2.2: reads properties until `reader.limit`, the end of the block.
    ///
    /// Reads past the bytes received stop with `needMoreData`; a value running past the block is
    /// `lengthMismatch`. A decision is made on each property as soon as its bytes are in.
    static func validate(_ reader: inout ByteReader, scope: Scope) throws(ReadStop) {
        // Every allowed identifier is below 0x30, so one bit each in a UInt64 records what was seen.
        var seen: UInt64 = 0
        while reader.position < reader.limit {
            let identifier = try reader.readVarInt(field: "property identifier")
            guard let rule = rule(for: identifier, in: scope) else {
                throw .invalid(.invalidProperty(identifier: UInt32(truncatingIfNeeded: identifier)))
            }
            let bit: UInt64 = 1 << UInt64(identifier)
            if rule.kind != .stringPair && seen & bit != 0 {
                throw .invalid(.duplicateProperty(identifier: UInt32(identifier)))
            }
            seen |= bit
            try readValue(of: rule, from: &reader)
        }
        // MQTT 5.0 §3.1.2.11.10: Authentication Data without an Authentication Method is a Protocol Error.
        if seen & (1 << 0x16) != 0 && seen & (1 << 0x15) == 0 {
            throw .invalid(
                .invalidField(field: "Authentication Data", reason: "sent without an Authentication Method"))
        }
    }

    /// Reads and range-checks one property value.
    private static func readValue(of rule: Rule, from reader: inout ByteReader) throws(ReadStop) {
        switch rule.kind {
        case .boolean:
            let value = try reader.readByte(field: rule.name)
            guard value <= 1 else { throw .invalid(.invalidField(field: rule.name, reason: "must be 0 or 1")) }
        case .twoByte:
            _ = try reader.readUInt16(field: rule.name)
        case .twoByteNonZero:
            let value = try reader.readUInt16(field: rule.name)
            guard value != 0 else { throw .invalid(.invalidField(field: rule.name, reason: "must not be 0")) }
        case .fourByte:
            _ = try reader.readUInt32(field: rule.name)
        case .fourByteNonZero:
            let value = try reader.readUInt32(field: rule.name)
            guard value != 0 else { throw .invalid(.invalidField(field: rule.name, reason: "must not be 0")) }
        case .string:
            _ = try reader.readString(field: rule.name)
        case .binary:
            _ = try reader.readBinary(field: rule.name)
        case .stringPair:
            _ = try reader.readString(field: rule.name + " name")
            _ = try reader.readString(field: rule.name + " value")
        }
    }
}
