/// Why a read stopped before a whole CONNECT was decoded.
enum ReadStop: Error {
    /// The bytes so far are a valid prefix; read more.
    case needMoreData
    /// The bytes can never become a valid CONNECT.
    case invalid(MQTTConnectError)
}

/// A cursor over the bytes received so far of one packet, which may be only a prefix of it.
///
/// Each read is checked twice: against `limit`, the end of the length-delimited region being read (the
/// packet's Remaining Length, or a property block), which makes an overrun `lengthMismatch`; then against the
/// bytes received, which makes it `needMoreData`. So a bad length is reported as soon as it is read, without
/// waiting for bytes that will never be part of the packet, and no read traps.
struct ByteReader {
    /// Everything received so far; may extend past `limit` (pipelined packets).
    let bytes: UnsafeRawBufferPointer
    /// Index of the next byte to read; never beyond `limit` or `bytes.count`.
    var position: Int
    /// End of the region being read; may lie beyond `bytes.count` while bytes are still arriving.
    var limit: Int

    /// Checks that `count` more bytes lie inside the region and have arrived.
    func require(_ count: Int, field: String) throws(ReadStop) {
        guard count <= limit - position else { throw .invalid(.lengthMismatch(field: field)) }
        guard count <= bytes.count - position else { throw .needMoreData }
    }

    /// Reads `count` raw bytes.
    mutating func readBytes(_ count: Int, field: String) throws(ReadStop) -> UnsafeRawBufferPointer {
        try require(count, field: field)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
        position += count
        return slice
    }

    /// MQTT 3.1.1 §1.5.1 / MQTT 5.0 §1.5.1: a single byte.
    mutating func readByte(field: String) throws(ReadStop) -> UInt8 {
        try require(1, field: field)
        let byte = bytes[position]
        position += 1
        return byte
    }

    /// MQTT 3.1.1 §1.5.2 / MQTT 5.0 §1.5.2: Two Byte Integer, big-endian.
    mutating func readUInt16(field: String) throws(ReadStop) -> UInt16 {
        let raw = try readBytes(2, field: field)
        return UInt16(raw[0]) << 8 | UInt16(raw[1])
    }

    /// MQTT 5.0 §1.5.3: Four Byte Integer, big-endian.
    mutating func readUInt32(field: String) throws(ReadStop) -> UInt32 {
        let raw = try readBytes(4, field: field)
        return raw.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// MQTT 5.0 §1.5.5: Variable Byte Integer, at most 4 bytes, inside the region.
    mutating func readVarInt(field: String) throws(ReadStop) -> Int {
        let end = min(limit, bytes.count)
        switch MQTTVarInt.decode(bytes, from: position, end: end) {
        case .value(let value, let length):
            position += length
            return value
        case .needMoreData:
            // Ran out at the region's end: the integer is cut off for good.
            throw end == limit ? .invalid(.lengthMismatch(field: field)) : .needMoreData
        case .malformed:
            throw .invalid(.variableByteIntegerTooLong(field: field))
        }
    }

    /// MQTT 3.1.1 §1.5.3 / MQTT 5.0 §1.5.4: UTF-8 Encoded String, a Two Byte length then well-formed UTF-8
    /// with no U+0000 (well-formedness already excludes the surrogates U+D800...U+DFFF).
    mutating func readString(field: String) throws(ReadStop) -> String {
        let length = try readUInt16(field: field)
        let raw = try readBytes(Int(length), field: field)
        guard !raw.contains(0), let string = String(validating: raw, as: UTF8.self) else {
            throw .invalid(.invalidUTF8(field: field))
        }
        return string
    }

    /// MQTT 3.1.1 §3.1.3.3–5 / MQTT 5.0 §1.5.6: Binary Data, a Two Byte length then that many bytes.
    mutating func readBinary(field: String) throws(ReadStop) -> [UInt8] {
        let length = try readUInt16(field: field)
        return Array(try readBytes(Int(length), field: field))
    }
}
