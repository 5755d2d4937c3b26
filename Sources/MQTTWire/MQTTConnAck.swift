/// Why the front refuses a client itself, before any broker sees it. Mapped per protocol version
/// to a CONNACK return code (3.1/3.1.1 §3.2.2.3) or reason code (5.0 §3.2.2.2).
public enum MQTTRefusal: Sendable, Equatable {
    /// No server can take the client: 3.x code 3, 5.0 reason 0x88 (Server unavailable).
    case serverUnavailable
    /// Too many connections from this source: 3.x code 3, 5.0 reason 0x97 (Quota exceeded).
    case quotaExceeded
    /// The client id is refused by a filter: 3.x code 2, 5.0 reason 0x85 (Client Identifier not valid).
    case clientIdentifierRejected
}

/// Builds and reads CONNACK packets (MQTT 3.1.1 §3.2, MQTT 5.0 §3.2).
///
/// The front builds one when it refuses a client itself; health checks and tests read the broker's.
/// Pure functions, callable from any thread.
public enum MQTTConnAck {
    /// CONNACK fixed-header byte: type 2, flags 0 (MQTT 3.1.1 §3.2.1).
    public static let fixedHeaderByte: UInt8 = 0x20
    /// 3.1/3.1.1 return code and 5.0 reason code for success.
    public static let accepted: UInt8 = 0x00

    /// The code a refusal maps to: a 3.x Connect Return Code (MQTT 3.1.1 §3.2.2.3) or a 5.0 Connect Reason
    /// Code (MQTT 5.0 §3.2.2.2). 3.x has no quota code, so a quota refusal is "Server unavailable" there too.
    public static func returnCode(for refusal: MQTTRefusal, version: MQTTProtocolVersion) -> UInt8 {
        switch (refusal, version) {
        case (.serverUnavailable, .v5): 0x88
        case (.quotaExceeded, .v5): 0x97
        case (.clientIdentifierRejected, .v5): 0x85
        case (.serverUnavailable, _), (.quotaExceeded, _): 0x03
        case (.clientIdentifierRejected, _): 0x02
        }
    }

    /// The CONNACK refusing a client: `20 02 00 code` for 3.1/3.1.1, `20 03 00 reason 00` for 5.0.
    public static func bytes(version: MQTTProtocolVersion, refusal: MQTTRefusal) -> [UInt8] {
        bytes(version: version, returnCode: returnCode(for: refusal, version: version))
    }

    /// A CONNACK with any code, e.g. ``accepted``. MQTT 3.1.1 §3.2.2: Acknowledge Flags (bit 0 Session
    /// Present) then the return code; MQTT 5.0 §3.2.2.1–3 adds an empty property block.
    public static func bytes(
        version: MQTTProtocolVersion, returnCode: UInt8, sessionPresent: Bool = false
    ) -> [UInt8] {
        let flags: UInt8 = sessionPresent ? 0x01 : 0x00
        switch version {
        case .v3_1, .v3_1_1: return [fixedHeaderByte, 0x02, flags, returnCode]
        case .v5: return [fixedHeaderByte, 0x03, flags, returnCode, 0x00]
        }
    }

    /// Reads a complete CONNACK at the start of `bytes`; nil when it is not one, or not whole yet.
    ///
    /// MQTT 3.1.1 §3.2 / MQTT 5.0 §3.2: header `0x20`, Remaining Length at least 2, Acknowledge Flags whose
    /// bits 7–1 are 0, then the code. Any 5.0 properties after the code are skipped, as are bytes after the
    /// packet.
    public static func parse(_ bytes: [UInt8]) -> (sessionPresent: Bool, code: UInt8)? {
        guard bytes.first == fixedHeaderByte,
            case .value(let remaining, let length) = MQTTVarInt.decode(bytes, from: 1),
            remaining >= 2, bytes.count - 1 - length >= remaining
        else { return nil }
        let flags = bytes[1 + length]
        guard flags & 0xFE == 0 else { return nil }
        return (sessionPresent: flags == 0x01, code: bytes[2 + length])
    }
}
