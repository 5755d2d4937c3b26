/// The MQTT Variable Byte Integer: 7 bits per byte, low group first, high bit set while more bytes follow,
/// at most 4 bytes (MQTT 3.1.1 §2.2.3 "Remaining Length", MQTT 5.0 §1.5.5).
///
/// Pure functions, callable from any thread.
public enum MQTTVarInt {
    /// Largest encodable value, 268,435,455 (`0xFF 0xFF 0xFF 0x7F`).
    public static let maxValue = 268_435_455
    /// Most bytes a Variable Byte Integer may take.
    public static let maxLength = 4

    /// Outcome of decoding a Variable Byte Integer from bytes that may still be arriving.
    public enum Decoded: Sendable, Equatable {
        /// The value and how many bytes encoded it.
        case value(Int, length: Int)
        /// Every byte so far had its continuation bit set; more are needed.
        case needMoreData
        /// A fourth byte still had its continuation bit set, or the offset was negative.
        case malformed
    }

    /// Decodes the integer starting at `offset`, reading no further than `end` (default and cap: `bytes.count`).
    ///
    /// Never traps: every index is checked against `end`. Non-minimal encodings (e.g. `0x80 0x00`) are
    /// accepted, as HAProxy does; the 4-byte cap is what bounds the work.
    public static func decode(_ bytes: UnsafeRawBufferPointer, from offset: Int, end: Int? = nil) -> Decoded {
        guard offset >= 0 else { return .malformed }
        let stop = min(end ?? bytes.count, bytes.count)
        var value = 0
        var index = offset
        for length in 1...maxLength {
            guard index < stop else { return .needMoreData }
            let byte = bytes[index]
            index += 1
            value |= Int(byte & 0x7F) << (7 * (length - 1))
            if byte & 0x80 == 0 { return .value(value, length: length) }
        }
        return .malformed
    }

    /// Decodes the integer starting at `offset` of an array; see ``decode(_:from:end:)``.
    public static func decode(_ bytes: [UInt8], from offset: Int = 0) -> Decoded {
        bytes.withUnsafeBytes { decode($0, from: offset) }
    }

    /// Encodes `value` in 1...4 bytes.
    ///
    /// - Precondition: `0...maxValue` contains `value`. Callers encode lengths of packets they build
    ///   themselves, never lengths read from the network.
    public static func encode(_ value: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        append(value, to: &bytes)
        return bytes
    }

    /// Appends the encoding of `value` to `bytes`; same precondition as ``encode(_:)``.
    public static func append(_ value: Int, to bytes: inout [UInt8]) {
        precondition(
            (0...maxValue).contains(value),
            "MQTT Variable Byte Integer \(value) is outside 0...\(maxValue) (MQTT 5.0 §1.5.5)")
        var rest = value
        repeat {
            var byte = UInt8(rest & 0x7F)
            rest >>= 7
            if rest > 0 { byte |= 0x80 }
            bytes.append(byte)
        } while rest > 0
    }
}
