import MQTTWire

/// Finds where the first MQTT control packet in a byte run ends, without interpreting it.
///
/// MQTT 3.1.1 §2.2 / MQTT 5.0 §2.1.1: a fixed header byte, then the Remaining Length as a Variable Byte
/// Integer of at most 4 bytes (§1.5.5), then that many bytes. Pure; callable from any thread.
public enum MQTTFrameSplitter {
    /// What the first bytes of a run hold.
    public enum Frame: Sendable, Equatable {
        /// A whole packet: its fixed-header byte, where its body starts and its total length.
        case packet(header: UInt8, bodyOffset: Int, totalLength: Int)
        /// Not a whole packet yet.
        case needMoreData
        /// The Remaining Length is longer than 4 bytes: the stream can never be valid.
        case malformed
    }

    /// Looks at the start of `bytes`.
    public static func next(_ bytes: UnsafeRawBufferPointer) -> Frame {
        guard let header = bytes.first else { return .needMoreData }
        switch MQTTVarInt.decode(bytes, from: 1) {
        case .needMoreData: return .needMoreData
        case .malformed: return .malformed
        case .value(let remaining, let length):
            let total = 1 + length + remaining
            return bytes.count >= total
                ? .packet(header: header, bodyOffset: 1 + length, totalLength: total) : .needMoreData
        }
    }

    /// Same as ``next(_:)-(UnsafeRawBufferPointer)`` for an array, for tests and small inputs.
    public static func next(_ bytes: [UInt8]) -> Frame {
        bytes.withUnsafeBytes { next($0) }
    }
}
