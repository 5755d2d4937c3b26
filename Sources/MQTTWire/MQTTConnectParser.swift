/// Decodes a client's first packet as an MQTT CONNECT (3.1, 3.1.1 or 5.0) so the front can route on it.
///
/// Pure and stateless, like HAProxy's `src/mqtt.c`: call it with everything received so far on each read; it
/// answers ``MQTTConnectParseResult/needMoreData``, ``MQTTConnectParseResult/complete(_:length:)`` or
/// ``MQTTConnectParseResult/invalid(_:)``. Each call re-reads from the first byte, so its cost is linear in
/// the bytes given, which `maxPacketSize` bounds. A verdict comes as early as the bytes allow: the packet
/// type from the first byte, `tooLarge` from the fixed header, a bad length field as soon as it is read.
/// Bytes after the CONNECT (pipelined packets) are not looked at. No input can make it trap.
/// Callable from any thread.
public enum MQTTConnectParser {
    /// Parses the CONNECT at the start of `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: Everything the client has sent so far, starting with the first byte of the connection.
    ///   - maxPacketSize: Largest whole packet (fixed header included) accepted; a larger announced size is
    ///     ``MQTTConnectError/tooLarge(_:)`` as soon as the Remaining Length is decoded.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxPacketSize: Int) -> MQTTConnectParseResult {
        do throws(ReadStop) {
            var reader = try fixedHeader(bytes, maxPacketSize: maxPacketSize)
            let connect = try variableHeaderAndPayload(&reader)
            return .complete(connect, length: reader.limit)
        } catch {
            switch error {
            case .needMoreData: return .needMoreData
            case .invalid(let reason): return .invalid(reason)
            }
        }
    }

    /// Whether `bytes` settle the first packet without more input: the fixed header shows it is not
    /// a CONNECT, is malformed or larger than `maxPacketSize`, or the whole packet is here. Only the
    /// fixed header is read; ``parse(_:maxPacketSize:)`` then gives the verdict.
    public static func isSettled(_ bytes: UnsafeRawBufferPointer, maxPacketSize: Int) -> Bool {
        guard let first = bytes.first else { return false }
        guard first == 0x10 else { return true }
        switch MQTTVarInt.decode(bytes, from: 1) {
        case .needMoreData: return false
        case .malformed: return true
        case .value(let remaining, let length):
            let total = 1 + length + remaining
            return total > maxPacketSize || bytes.count >= total
        }
    }

    /// The protocol version a CONNECT at the start of `bytes` announces, whatever follows it.
    ///
    /// MQTT 3.1.1 §3.1.2.1–2 / MQTT 5.0 §3.1.2.1–2: read from the protocol name and level alone, with no
    /// size limit. Nil until those bytes are in, for a pair the parser does not accept, and for bytes that
    /// do not start like a CONNECT.
    public static func announcedVersion(_ bytes: UnsafeRawBufferPointer) -> MQTTProtocolVersion? {
        do throws(ReadStop) {
            var reader = try fixedHeader(bytes, maxPacketSize: .max)
            return try protocolVersion(&reader)
        } catch {
            return nil
        }
    }

    /// The protocol version a CONNECT at the start of `bytes` announces; see the raw-buffer overload.
    public static func announcedVersion(_ bytes: [UInt8]) -> MQTTProtocolVersion? {
        bytes.withUnsafeBytes { announcedVersion($0) }
    }

    /// Parses the CONNECT at the start of `bytes`; see the raw-buffer overload.
    public static func parse(_ bytes: [UInt8], maxPacketSize: Int) -> MQTTConnectParseResult {
        bytes.withUnsafeBytes { parse($0, maxPacketSize: maxPacketSize) }
    }

    /// MQTT 3.1.1 §2.2, §3.1.1 / MQTT 5.0 §2.1.1, §3.1.1: packet type 1, flags 0, then the Remaining Length
    /// (3.1.1 §2.2.3 / 5.0 §2.1.4), at most 4 bytes. Returns a reader positioned after the fixed header whose
    /// limit is the packet's end.
    private static func fixedHeader(
        _ bytes: UnsafeRawBufferPointer, maxPacketSize: Int
    ) throws(ReadStop) -> ByteReader {
        guard let first = bytes.first else { throw .needMoreData }
        guard first >> 4 == 1 else { throw .invalid(.notConnect(packetType: first >> 4)) }
        guard first & 0x0F == 0 else { throw .invalid(.badFixedHeaderFlags(first & 0x0F)) }
        switch MQTTVarInt.decode(bytes, from: 1) {
        case .needMoreData:
            throw .needMoreData
        case .malformed:
            throw .invalid(.malformedRemainingLength)
        case .value(let remaining, let length):
            let headerLength = 1 + length
            let total = headerLength + remaining
            guard total <= maxPacketSize else { throw .invalid(.tooLarge(total)) }
            return ByteReader(bytes: bytes, position: headerLength, limit: total)
        }
    }

    /// MQTT 3.1.1 §3.1.2 / MQTT 5.0 §3.1.2 (variable header), then §3.1.3 (payload) of either.
    private static func variableHeaderAndPayload(_ reader: inout ByteReader) throws(ReadStop) -> MQTTConnect {
        let version = try protocolVersion(&reader)
        // MQTT 3.1.1 §3.1.2.3 / MQTT 5.0 §3.1.2.3: Connect Flags.
        let flags = MQTTConnectFlags(rawValue: try reader.readByte(field: "connect flags"))
        if let problem = flags.validate(version: version) { throw .invalid(problem) }
        // MQTT 3.1.1 §3.1.2.10 / MQTT 5.0 §3.1.2.10: Keep Alive.
        let keepAlive = try reader.readUInt16(field: "keep alive")
        // MQTT 5.0 §3.1.2.11: CONNECT Properties.
        let properties = version == .v5 ? try propertyBlock(&reader, scope: .connect, field: "properties") : []
        var connect = MQTTConnect(
            version: version,
            cleanStart: flags.cleanStart,
            keepAlive: keepAlive,
            clientID: try clientIdentifier(&reader, version: version),
            properties: properties
        )
        if flags.hasWill {
            connect.will = try will(&reader, version: version, flags: flags)
        }
        // MQTT 3.1.1 §3.1.3.4 / MQTT 5.0 §3.1.3.5: User Name.
        if flags.hasUsername {
            connect.username = try reader.readString(field: "user name")
        }
        // MQTT 3.1.1 §3.1.3.5 / MQTT 5.0 §3.1.3.6: Password, binary data.
        if flags.hasPassword {
            connect.password = try reader.readBinary(field: "password")
        }
        // MQTT 3.1.1 §2.2.3: the Remaining Length covers exactly the variable header and the payload.
        guard reader.position == reader.limit else {
            throw .invalid(.lengthMismatch(field: "payload (bytes left over after the last field)"))
        }
        return connect
    }

    /// MQTT 3.1.1 §3.1.2.1–2 / MQTT 5.0 §3.1.2.1–2 (and the MQTT 3.1 CONNECT): Protocol Name then Protocol
    /// Level; MQIsdp/3, MQTT/4 and MQTT/5 are accepted. Decided once the name and the level byte are in, so
    /// the error always carries both.
    private static func protocolVersion(_ reader: inout ByteReader) throws(ReadStop) -> MQTTProtocolVersion {
        let nameLength = try reader.readUInt16(field: "protocol name")
        let name = try reader.readBytes(Int(nameLength), field: "protocol name")
        let level = try reader.readByte(field: "protocol level")
        let isMQTT = name.elementsEqual("MQTT".utf8)
        switch level {
        case 3 where name.elementsEqual("MQIsdp".utf8): return .v3_1
        case 4 where isMQTT: return .v3_1_1
        case 5 where isMQTT: return .v5
        default:
            throw .invalid(.unsupportedProtocol(name: String(decoding: name, as: UTF8.self), level: level))
        }
    }

    /// MQTT 3.1.1 §3.1.3.1 / MQTT 5.0 §3.1.3.1: Client Identifier, a UTF-8 string that may be empty;
    /// MQTT 3.1 (CONNECT, "Client Identifier") requires 1 to 23 characters.
    private static func clientIdentifier(
        _ reader: inout ByteReader, version: MQTTProtocolVersion
    ) throws(ReadStop) -> String {
        let clientID = try reader.readString(field: "client identifier")
        if version == .v3_1 && !(1...23).contains(clientID.utf8.count) {
            throw .invalid(.clientIdentifierLength(clientID.utf8.count))
        }
        return clientID
    }

    /// MQTT 3.1.1 §3.1.3.2–3 / MQTT 5.0 §3.1.3.2–4: Will Properties (5.0 only), Will Topic, Will Payload.
    private static func will(
        _ reader: inout ByteReader, version: MQTTProtocolVersion, flags: MQTTConnectFlags
    ) throws(ReadStop) -> MQTTWill {
        let properties = version == .v5 ? try propertyBlock(&reader, scope: .will, field: "will properties") : []
        let topic = try reader.readString(field: "will topic")
        // MQTT 3.1.1 §4.7.1, §4.7.3 / MQTT 5.0 §4.7.1, §4.7.3: the Will Topic is a Topic Name, at least one
        // character long and without the wildcards of Topic Filters.
        if topic.isEmpty { throw .invalid(.invalidField(field: "will topic", reason: "must not be empty")) }
        if topic.utf8.contains(where: { $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "+") }) {
            throw .invalid(.invalidField(field: "will topic", reason: "must not contain the wildcards # or +"))
        }
        let payload = try reader.readBinary(field: "will payload")
        return MQTTWill(
            topic: topic, payload: payload, qos: flags.willQoS, retain: flags.willRetain, properties: properties)
    }

    /// MQTT 5.0 §2.2.2.1: Property Length (Variable Byte Integer) then the properties, validated as they
    /// arrive. Returns the raw property bytes without the length.
    private static func propertyBlock(
        _ reader: inout ByteReader, scope: MQTTPropertyValidator.Scope, field: String
    ) throws(ReadStop) -> [UInt8] {
        let length = try reader.readVarInt(field: field + " length")
        guard length <= reader.limit - reader.position else { throw .invalid(.lengthMismatch(field: field)) }
        let start = reader.position
        var block = ByteReader(bytes: reader.bytes, position: start, limit: start + length)
        try MQTTPropertyValidator.validate(&block, scope: scope)
        // The validator consumed exactly `length` bytes, all received, so this cannot fail.
        return Array(try reader.readBytes(length, field: field))
    }
}
