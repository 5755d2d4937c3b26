extension ProxyHeaderParser {
    /// §2.1: the longest v1 line a receiver must take, CRLF included; no CRLF within it is invalid.
    static let v1MaxLength = 107
    /// The four fields after `TCP4`/`TCP6`, named as errors report them (§2.1, in wire order).
    static let v1FieldNames = ["source address", "destination address", "source port", "destination port"]

    private static let cr: UInt8 = 0x0D
    private static let lf: UInt8 = 0x0A
    private static let space: UInt8 = 0x20
    /// §2.1: the protocol field's values; the index is used as the kind (0 TCP4, 1 TCP6, 2 UNKNOWN).
    private static let protocols = ["TCP4", "TCP6", "UNKNOWN"].map { Array($0.utf8) }

    /// §2.1 human-readable header: `PROXY TCP4|TCP6 src dst sport dport\r\n` or `PROXY UNKNOWN ...\r\n`.
    ///
    /// `bytes` starts with `PROXY ` and holds at least one more byte. The spec asks receivers to wait for the
    /// CRLF before decoding addresses; this parser does decode only then, but refuses a bad field as soon as
    /// the space after it arrives, and a partial field as soon as it holds a byte no valid field could.
    static func parseV1(_ bytes: UnsafeRawBufferPointer) -> ProxyHeaderParseResult {
        // §2.1: look for the CRLF in the first 107 bytes. A CR ends the line only once its LF is in; a lone CR
        // or LF never does. Bytes before `end` are field text.
        var end = v1Prefix.count
        var lineEnded = false
        var lineProblem: ProxyHeaderError?
        scan: while end < min(bytes.count, v1MaxLength) {
            switch bytes[end] {
            case lf: lineProblem = .v1BadLineEnding(offset: end)
            case cr where end + 1 == v1MaxLength: lineProblem = .v1LineTooLong(limit: v1MaxLength)
            case cr where end + 1 == bytes.count: break scan  // its LF is still to come
            case cr where bytes[end + 1] == lf: lineEnded = true
            case cr: lineProblem = .v1BadLineEnding(offset: end)
            default:
                end += 1
                continue scan
            }
            break scan
        }
        if end == v1MaxLength { lineProblem = .v1LineTooLong(limit: v1MaxLength) }

        // The fields before a bad line end are checked first, so the error reported is the one at the earliest
        // offset, the same whichever way the bytes were split into reads.
        switch v1Header(bytes, fieldsEnd: end, lineEnded: lineEnded) {
        case .failure(let error):
            return .invalid(error)
        case .success(let header):
            if let lineProblem { return .invalid(lineProblem) }
            guard let header else { return .needMoreData }
            return .complete(header, length: end + 2)
        }
    }

    /// §2.1: checks the space-separated fields between `PROXY ` and `fieldsEnd`. Returns the header when the
    /// line has ended and every field is valid, nil while the fields so far could still become a valid line.
    private static func v1Header(
        _ bytes: UnsafeRawBufferPointer, fieldsEnd: Int, lineEnded: Bool
    ) -> Result<ProxyHeader?, ProxyHeaderError> {
        var fields: [Range<Int>] = []
        var start = v1Prefix.count
        for index in start..<fieldsEnd where bytes[index] == space {
            fields.append(start..<index)
            start = index + 1
        }
        fields.append(start..<fieldsEnd)
        // Every field but the last is followed by a space; the last is whole only once the line has ended.
        func isWhole(_ position: Int) -> Bool { position < fields.count - 1 || lineEnded }
        func text(_ range: Range<Int>) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[range]) }

        // §2.1: the protocol and family field.
        let protocolField = text(fields[0])
        let isProtocolPrefix = { (prefix: UnsafeRawBufferPointer) in protocols.contains { $0.starts(with: prefix) } }
        let kind = protocols.firstIndex { $0.elementsEqual(protocolField) }
        guard isProtocolPrefix(protocolField), kind != nil || !isWhole(0) else {
            return .failure(.v1UnknownProtocol(quote(protocolField, upToFirstRefusedBy: isProtocolPrefix)))
        }
        guard let kind else { return .success(nil) }
        // §2.1: for UNKNOWN "the receiver must ignore anything presented before the CRLF".
        if kind == 2 { return .success(lineEnded ? ProxyHeader(version: 1, command: .local) : nil) }
        let isIPv4 = kind == 0

        var addresses: [String] = []
        var ports: [Int] = []
        for position in 1..<min(fields.count, 5) {
            let range = fields[position]
            let name = v1FieldNames[position - 1]
            let whole = isWhole(position)
            if range.isEmpty {
                if whole { return .failure(.v1BadSeparator(offset: range.lowerBound - 1)) }
                continue
            }
            let field = text(range)
            if position <= 2 {
                let couldBeAddress = { (prefix: UnsafeRawBufferPointer) in
                    IPAddressText.couldBeAddressPrefix(prefix, ipv4: isIPv4)
                }
                guard couldBeAddress(field) else {
                    return .failure(
                        .v1InvalidAddress(field: name, value: quote(field, upToFirstRefusedBy: couldBeAddress)))
                }
                guard whole else { continue }
                let parsed = isIPv4 ? IPAddressText.ipv4(field) : IPAddressText.ipv6(field)
                guard let parsed else {
                    return .failure(.v1InvalidAddress(field: name, value: String(decoding: field, as: UTF8.self)))
                }
                addresses.append(IPAddressText.format(parsed))
            } else {
                // A valid prefix of a port is itself a valid port, so one check serves whole and partial fields.
                let couldBePort = { (prefix: UnsafeRawBufferPointer) in prefix.isEmpty || decimalPort(prefix) != nil }
                guard let port = decimalPort(field) else {
                    return .failure(.v1InvalidPort(field: name, value: quote(field, upToFirstRefusedBy: couldBePort)))
                }
                ports.append(port)
            }
        }
        if fields.count > 5 { return .failure(.v1ExtraField(offset: fields[5].lowerBound - 1)) }
        guard lineEnded else { return .success(nil) }
        guard fields.count == 5 else { return .failure(.v1MissingField(v1FieldNames[fields.count - 1])) }
        return .success(
            ProxyHeader(
                version: 1, command: .proxy,
                source: ProxyAddress(ip: addresses[0], port: ports[0]),
                destination: ProxyAddress(ip: addresses[1], port: ports[1])))
    }

    /// The shortest prefix of `field` that `isValidPrefix` refuses, as text for an error, or the whole field when
    /// every prefix passes. Quoting only up to the first bad byte makes the error the same whether the field
    /// arrived whole or byte by byte.
    private static func quote(
        _ field: UnsafeRawBufferPointer, upToFirstRefusedBy isValidPrefix: (UnsafeRawBufferPointer) -> Bool
    ) -> String {
        let end = (0...field.count).first { !isValidPrefix(UnsafeRawBufferPointer(rebasing: field[..<$0])) }
        return String(decoding: field[..<(end ?? field.count)], as: UTF8.self)
    }

    /// §2.1: a port is 0...65535 in decimal "with no heading zeroes"; nil when `field` is not one.
    private static func decimalPort(_ field: UnsafeRawBufferPointer) -> Int? {
        guard (1...5).contains(field.count), field.count == 1 || field[0] != UInt8(ascii: "0") else { return nil }
        var value = 0
        for byte in field {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value <= 65535 ? value : nil
    }
}
