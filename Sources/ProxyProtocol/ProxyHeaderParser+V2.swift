extension ProxyHeaderParser {
    /// §2.2: signature, version/command, family/transport and the 2-byte length.
    static let v2FixedLength = 16

    /// §2.2: how many address bytes each defined family/transport byte carries; nil for undefined values,
    /// which "must be rejected as invalid by receivers".
    static func v2AddressBlockLength(family: UInt8) -> Int? {
        switch family {
        case 0x00: 0  // UNSPEC
        case 0x11, 0x12: 12  // TCP or UDP over IPv4: 2 × 4 address bytes + 2 × 2 port bytes
        case 0x21, 0x22: 36  // TCP or UDP over IPv6: 2 × 16 + 2 × 2
        case 0x31, 0x32: 216  // UNIX stream or datagram: 2 × 108
        default: nil
        }
    }

    /// §2.2 binary header. `bytes` starts with the 12-byte signature and holds at least one more byte.
    ///
    /// Addresses are read only for PROXY over TCP/IPv4 (0x11) or TCP/IPv6 (0x21). The other defined families
    /// are accepted without addresses: §2.2 lets a receiver that does not implement them "fall back to the
    /// UNSPEC mode", and for LOCAL "the family ... is ignored". Their address block is still skipped by its
    /// size, so TLVs after it are found; for UNSPEC the whole block is TLVs, as HAProxy sends them. A LOCAL
    /// sender "should not present any address so it sets this field to zero", possibly leaving the family
    /// set: a LOCAL length below the family's block means no addresses, and TLVs from byte 16.
    static func parseV2(_ bytes: UnsafeRawBufferPointer, maxLength: Int) -> ProxyHeaderParseResult {
        // §2.2 13th byte: "The highest four bits contains the version ... the receiver must only accept" 2;
        // the lowest four are the command, LOCAL (0) or PROXY (1); "Receivers must drop connections presenting
        // unexpected values here."
        let versionAndCommand = bytes[12]
        guard versionAndCommand >> 4 == 2 else { return .invalid(.v2UnsupportedVersion(versionAndCommand >> 4)) }
        guard versionAndCommand & 0x0F <= 1 else { return .invalid(.v2UnsupportedCommand(versionAndCommand & 0x0F)) }
        let command: ProxyHeader.Command = versionAndCommand & 0x0F == 1 ? .proxy : .local
        guard bytes.count > 13 else { return .needMoreData }

        // §2.2 14th byte: address family (high nibble) and transport (low nibble).
        let family = bytes[13]
        guard let addressLength = v2AddressBlockLength(family: family) else {
            return .invalid(.v2UnsupportedFamily(family))
        }
        guard bytes.count >= v2FixedLength else { return .needMoreData }

        // §2.2 15th–16th bytes: "the length of the protocol header in bytes is always exactly 16 + this value".
        let length = Int(bytes[14]) << 8 | Int(bytes[15])
        let total = v2FixedLength + length
        guard total <= maxLength else { return .invalid(.v2TooLong(length: total, limit: maxLength)) }
        let addressesPresent = length >= addressLength
        guard addressesPresent || command == .local else {
            return .invalid(.v2AddressBlockTooShort(family: family, length: length, required: addressLength))
        }
        // §2.2: "The receiver must not start to parse an address before the whole address block is received."
        guard bytes.count >= total else { return .needMoreData }

        let tlvStart = v2FixedLength + (addressesPresent ? addressLength : 0)
        let tlvs: [ProxyTLV]
        switch v2TLVs(bytes, from: tlvStart, to: total) {
        case .success(let list): tlvs = list
        case .failure(let error): return .invalid(error)
        }
        var header = ProxyHeader(version: 2, command: command, tlvs: tlvs)
        if command == .proxy && (family == 0x11 || family == 0x21) {
            // §2.2 "union proxy_addr": source address, destination address, source port, destination port.
            let size = family == 0x11 ? 4 : 16
            let source = Array(bytes[16..<16 + size])
            let destination = Array(bytes[16 + size..<16 + 2 * size])
            let ports = 16 + 2 * size
            header.source = ProxyAddress(
                ip: IPAddressText.format(source), port: Int(bytes[ports]) << 8 | Int(bytes[ports + 1]))
            header.destination = ProxyAddress(
                ip: IPAddressText.format(destination), port: Int(bytes[ports + 2]) << 8 | Int(bytes[ports + 3]))
        }
        return .complete(header, length: total)
    }

    /// §2.2 "struct pp2_tlv": type byte, 2-byte big-endian length, value; repeated up to the header's end.
    /// Strict: a vector whose header or value runs past `end` makes the whole header invalid.
    private static func v2TLVs(
        _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int
    ) -> Result<[ProxyTLV], ProxyHeaderError> {
        var tlvs: [ProxyTLV] = []
        var offset = start
        while offset < end {
            guard end - offset >= 3 else { return .failure(.v2TruncatedTLV(offset: offset)) }
            let length = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            guard end - offset - 3 >= length else { return .failure(.v2TruncatedTLV(offset: offset)) }
            tlvs.append(ProxyTLV(type: bytes[offset], value: Array(bytes[offset + 3..<offset + 3 + length])))
            offset += 3 + length
        }
        return .success(tlvs)
    }
}
