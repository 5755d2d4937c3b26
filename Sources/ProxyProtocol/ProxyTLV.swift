/// One Type-Length-Value vector from a PROXY protocol v2 header (proxy-protocol.txt §2.2, "struct pp2_tlv").
///
/// The value is kept raw: the parser checks only that each vector fits inside the header. Sub-TLVs of
/// ``ssl`` are not split out. A plain value, usable from any thread.
public struct ProxyTLV: Sendable, Equatable, Hashable {
    /// PP2_TYPE_ALPN (§2.2.1): the negotiated application protocol.
    public static let alpn: UInt8 = 0x01
    /// PP2_TYPE_AUTHORITY (§2.2.2): the host name the client asked for (TLS SNI), UTF-8.
    public static let authority: UInt8 = 0x02
    /// PP2_TYPE_CRC32C (§2.2.3): a checksum of the header. Not verified by this parser (the spec makes
    /// verification a duty only of receivers that support it).
    public static let crc32c: UInt8 = 0x03
    /// PP2_TYPE_NOOP (§2.2.4): padding, to be ignored.
    public static let noop: UInt8 = 0x04
    /// PP2_TYPE_UNIQUE_ID (§2.2.5): an opaque id of the connection, up to 128 bytes.
    public static let uniqueID: UInt8 = 0x05
    /// PP2_TYPE_SSL (§2.2.6): client TLS facts, itself a byte, a 32-bit verify result and sub-TLVs.
    public static let ssl: UInt8 = 0x20
    /// PP2_TYPE_NETNS (§2.2.7): the sender's network namespace name.
    public static let netns: UInt8 = 0x30

    /// The vector's type byte.
    public var type: UInt8
    /// The vector's value, without the type and the two length bytes.
    public var value: [UInt8]

    /// Builds a vector.
    public init(type: UInt8, value: [UInt8]) {
        self.type = type
        self.value = value
    }
}
