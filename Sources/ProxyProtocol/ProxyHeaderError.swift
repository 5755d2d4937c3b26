/// Why bytes are not a valid PROXY protocol header. Each case is one thing a person can look for in a
/// capture; offsets count from the connection's first byte. Section numbers are those of HAProxy's
/// doc/proxy-protocol.txt.
public enum ProxyHeaderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The byte at `offset` fits neither the v1 prefix `PROXY ` nor the v2 signature (§2.1, §2.2). A client
    /// that skips the header and opens with an MQTT CONNECT (`0x10`) gets this at offset 0.
    case unrecognizedSignature(offset: Int, byte: UInt8)

    /// v1: no CRLF within the first `limit` (107) bytes (§2.1).
    case v1LineTooLong(limit: Int)
    /// v1: a CR not followed by LF, or an LF with no CR before it, at `offset` (§2.1).
    case v1BadLineEnding(offset: Int)
    /// v1: the protocol field is not `TCP4`, `TCP6` or `UNKNOWN`; carries the field as read so far.
    case v1UnknownProtocol(String)
    /// v1: the space at `offset` is followed by another space or by the line end: fields are separated by
    /// exactly one space (§2.1).
    case v1BadSeparator(offset: Int)
    /// v1: the line ended before `field` (e.g. "destination port").
    case v1MissingField(String)
    /// v1: a space follows the destination port at `offset`; only the CRLF may come after it (§2.1).
    case v1ExtraField(offset: Int)
    /// v1: `field` is not an address of the announced family in canonical form (§2.1: dotted quad with no
    /// leading zeros for TCP4, colon-separated hex with at most one `::` for TCP6).
    case v1InvalidAddress(field: String, value: String)
    /// v1: `field` is not a decimal port in 0...65535 without leading zeros (§2.1).
    case v1InvalidPort(field: String, value: String)

    /// v2: the version nibble of the 13th byte is not 2 (§2.2).
    case v2UnsupportedVersion(UInt8)
    /// v2: the command nibble is neither LOCAL (0) nor PROXY (1) (§2.2).
    case v2UnsupportedCommand(UInt8)
    /// v2: the 14th byte is not a defined family and transport pair (§2.2).
    case v2UnsupportedFamily(UInt8)
    /// v2: the header would be `length` bytes (16 plus its length field), more than the receiver's `limit`.
    case v2TooLong(length: Int, limit: Int)
    /// v2: a PROXY header's length field is smaller than the address block of the announced family (§2.2).
    case v2AddressBlockTooShort(family: UInt8, length: Int, required: Int)
    /// v2: the TLV starting at `offset` runs past the end of the header (§2.2, "struct pp2_tlv").
    case v2TruncatedTLV(offset: Int)

    /// One line for logs, naming the rule that was broken.
    public var description: String {
        switch self {
        case .unrecognizedSignature(let offset, let byte):
            "byte \(offset) (0x\(String(byte, radix: 16))) is not part of a PROXY protocol v1 or v2 signature"
        case .v1LineTooLong(let limit): "PROXY v1 line has no CRLF within \(limit) bytes"
        case .v1BadLineEnding(let offset): "PROXY v1 line has a lone CR or LF at byte \(offset)"
        case .v1UnknownProtocol(let text): "PROXY v1 protocol \"\(text)\" is not TCP4, TCP6 or UNKNOWN"
        case .v1BadSeparator(let offset): "PROXY v1 space at byte \(offset) is not followed by a field"
        case .v1MissingField(let field): "PROXY v1 line ends before the \(field)"
        case .v1ExtraField(let offset): "PROXY v1 line goes on after the destination port at byte \(offset)"
        case .v1InvalidAddress(let field, let value): "PROXY v1 \(field) \"\(value)\" is not a valid address"
        case .v1InvalidPort(let field, let value): "PROXY v1 \(field) \"\(value)\" is not a port in 0...65535"
        case .v2UnsupportedVersion(let version): "PROXY v2 version nibble is \(version), not 2"
        case .v2UnsupportedCommand(let command): "PROXY v2 command \(command) is neither LOCAL (0) nor PROXY (1)"
        case .v2UnsupportedFamily(let family):
            "PROXY v2 family/transport byte 0x\(String(family, radix: 16)) is not defined"
        case .v2TooLong(let length, let limit): "PROXY v2 header of \(length) bytes exceeds the limit of \(limit)"
        case .v2AddressBlockTooShort(let family, let length, let required):
            "PROXY v2 length \(length) is below the \(required) address bytes of family 0x\(String(family, radix: 16))"
        case .v2TruncatedTLV(let offset): "PROXY v2 TLV at byte \(offset) runs past the end of the header"
        }
    }
}
