/// Follows packet boundaries in one direction of a relayed MQTT stream without buffering it: reads
/// each fixed header (MQTT 3.1.1 §2.2, 5.0 §2.1.1) and skips the body by its Remaining Length.
/// The front uses it to notice a client's DISCONNECT (type 14), so a broker that closes right
/// after one is not blamed for ending the session, and to move a session at a packet boundary.
/// O(packets) per chunk; 12 bytes of state (every relayed MQTT session holds two).
public struct MQTTStreamTracker: Sendable, Equatable {
    /// Body bytes still to skip in the current packet (a Remaining Length is under 2^28).
    private var remaining: UInt32 = 0
    /// The Remaining Length being read, and the bit position of its next 7 bits.
    private var length: UInt32 = 0
    private var shift: UInt8 = 0
    /// False: at a packet start; true: type byte read, in the length varint.
    private var inHeader = false
    private var packetType: UInt8 = 0
    /// False once the stream stopped looking like MQTT (a 5-byte length); tracking then ends.
    public private(set) var isTracking = true
    /// Whether a DISCONNECT packet has been seen.
    public private(set) var sawDisconnect = false

    public init() {}

    /// Whether the stream is between two packets: every packet begun has been read whole.
    public var isAtPacketBoundary: Bool { remaining == 0 && !inHeader }

    /// How many bytes may be read without passing the next packet boundary: the body bytes still to
    /// come, 1 inside a fixed header (its length is not known yet), 0 at a boundary.
    public var bytesToPacketBoundary: Int { inHeader ? 1 : Int(remaining) }

    /// Feeds the next chunk of the stream.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        let count = bytes.count
        while isTracking && index < count {
            if remaining > 0 {
                let skip = min(Int(remaining), count - index)
                remaining -= UInt32(skip)
                index += skip
                continue
            }
            let byte = bytes[index]
            index += 1
            if !inHeader {
                packetType = byte >> 4
                inHeader = true
                length = 0
                shift = 0
                continue
            }
            length |= UInt32(byte & 0x7F) << shift
            shift += 7
            if byte & 0x80 != 0 {
                if shift >= 28 { isTracking = false }
                continue
            }
            inHeader = false
            remaining = length
            if packetType == 14 { sawDisconnect = true }
        }
    }

    /// How many of `bytes`, the stream's next ones, come before its next packet boundary: all of the
    /// packet in flight and none after it (0 at a boundary, or once tracking ended).
    public func prefixToPacketBoundary(of bytes: UnsafeRawBufferPointer) -> Int {
        var tracker = self
        var taken = 0
        while tracker.isTracking, taken < bytes.count {
            let step = min(tracker.bytesToPacketBoundary, bytes.count - taken)
            guard step > 0 else { break }
            tracker.feed(UnsafeRawBufferPointer(rebasing: bytes[taken..<(taken + step)]))
            taken += step
        }
        return taken
    }

    /// Feeds an array (tests).
    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }
}
