/// Decodes the PROXY protocol header (v1 text or v2 binary, HAProxy's doc/proxy-protocol.txt) that a trusted
/// load balancer sends before the client's own bytes.
///
/// Pure and stateless, like the MQTT CONNECT parser: call it with everything received so far on each read; it
/// answers ``ProxyHeaderParseResult/needMoreData``, ``ProxyHeaderParseResult/complete(_:length:)`` or
/// ``ProxyHeaderParseResult/invalid(_:)``. A verdict comes as early as the bytes allow: the first byte already
/// decides between v1, v2 and "not PROXY protocol"; each signature byte, the v2 version, command, family and
/// length are checked as they arrive; a v1 field is checked as soon as the space after it arrives. Bytes after
/// the header are not looked at. Cost is linear in the bytes given, at most ``defaultMaxLength`` by default.
/// No input can make it trap. Callable from any thread.
public enum ProxyHeaderParser {
    /// Largest v2 header accepted unless the caller says otherwise: 16 header bytes plus 4 KiB of addresses
    /// and TLVs. The format allows 16 + 65,535; real senders stay far below (§2: both formats are meant to
    /// fit in 536 bytes), and a smaller cap bounds what a connection may make the front buffer.
    public static let defaultMaxLength = 4096 + 16

    /// §2.1: "PROXY" and exactly one space start every v1 header.
    static let v1Prefix: [UInt8] = Array("PROXY ".utf8)
    /// §2.2: the 12-byte v2 signature `\r\n\r\n\0\r\nQUIT\n`.
    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    /// Parses the header at the start of `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: Everything the peer has sent so far, starting with the first byte of the connection.
    ///   - maxLength: Largest whole v2 header accepted; a larger announced length is
    ///     ``ProxyHeaderError/v2TooLong(length:limit:)`` as soon as the length field arrives. v1 has its own
    ///     fixed cap of 107 bytes (§2.1).
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, maxLength: Int = defaultMaxLength
    ) -> ProxyHeaderParseResult {
        guard let first = bytes.first else { return .needMoreData }
        // §2.2 "Identifying the protocol version": `P` can only start v1 and CR only v2, so the first byte picks
        // the signature to compare against, and any other first byte is refused at once.
        let isV1 = first == v1Prefix[0]
        let signature = isV1 ? v1Prefix : v2Signature
        for index in 0..<min(bytes.count, signature.count) where bytes[index] != signature[index] {
            return .invalid(.unrecognizedSignature(offset: index, byte: bytes[index]))
        }
        guard bytes.count > signature.count else { return .needMoreData }
        return isV1 ? parseV1(bytes) : parseV2(bytes, maxLength: maxLength)
    }

    /// Parses the header at the start of an array, as the buffer-pointer overload does.
    public static func parse(_ bytes: [UInt8], maxLength: Int = defaultMaxLength) -> ProxyHeaderParseResult {
        bytes.withUnsafeBytes { parse($0, maxLength: maxLength) }
    }
}
