/// Reads and writes IP addresses as text for the PROXY protocol: the strict forms §2.1 of
/// doc/proxy-protocol.txt allows on the wire, and the RFC 5952 form ``ProxyAddress`` holds.
///
/// Works on ASCII bytes; every function is total (nil for bad input, never a trap).
enum IPAddressText {
    /// Longest IPv4 text, `255.255.255.255`.
    static let maxIPv4Length = 15
    /// Longest IPv6 text inet_pton reads, `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`.
    static let maxIPv6Length = 45

    /// §2.1: "exactly 4 integers in the range [0..255] ... separated by exactly one dot", no leading zeros.
    /// Returns the 4 address bytes.
    static func ipv4(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count <= maxIPv4Length else { return nil }
        var octets: [UInt8] = []
        var value = 0
        var digits = 0
        for byte in text {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, octets.count < 3 else { return nil }
                octets.append(UInt8(value))
                value = 0
                digits = 0
            } else if let digit = decimalDigit(byte), digits == 0 || value != 0 {
                value = value * 10 + digit
                digits += 1
                guard value <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, octets.count == 3 else { return nil }
        return octets + [UInt8(value)]
    }

    /// §2.1: groups of 1–4 hex digits (either case) separated by colons, at most one `::` standing for one
    /// or more zero groups, 128 bits in all; like inet_pton, the last 32 bits may be written as an IPv4
    /// dotted quad (`::ffff:192.0.2.1`). No zone (`%eth0`). Returns the 16 address bytes.
    static func ipv6(_ text: some Collection<UInt8>) -> [UInt8]? {
        let text = Array(text)
        guard (2...maxIPv6Length).contains(text.count) else { return nil }
        let colon = UInt8(ascii: ":")
        var groups: [UInt16] = []
        var gap: Int?
        var index = 0
        if text[0] == colon {
            guard text[1] == colon else { return nil }
            gap = 0
            index = 2
        }
        while index < text.count {
            let end = text[index...].firstIndex(of: colon) ?? text.count
            let group = text[index..<end]
            if group.contains(UInt8(ascii: ".")) {
                // The IPv4 tail: only as the very last group.
                guard end == text.count, let tail = ipv4(group) else { return nil }
                groups.append(UInt16(tail[0]) << 8 | UInt16(tail[1]))
                groups.append(UInt16(tail[2]) << 8 | UInt16(tail[3]))
                break
            }
            guard (1...4).contains(group.count) else { return nil }
            var value: UInt16 = 0
            for byte in group {
                guard let digit = hexDigit(byte) else { return nil }
                value = value << 4 | UInt16(digit)
            }
            groups.append(value)
            guard groups.count <= 8 else { return nil }
            index = end + 1
            if end + 1 < text.count && text[end + 1] == colon {
                guard gap == nil else { return nil }
                gap = groups.count
                index = end + 2
            } else if end + 1 == text.count {
                return nil  // a single trailing colon
            }
        }
        if let gap {
            guard groups.count <= 7 else { return nil }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gap)
        }
        guard groups.count == 8 else { return nil }
        return groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// Whether `text` may still grow into a valid address of the family: only its characters and length
    /// are checked, which is enough to refuse garbage before the line ends.
    static func couldBeAddressPrefix(_ text: some Collection<UInt8>, ipv4: Bool) -> Bool {
        if ipv4 {
            return text.count <= maxIPv4Length && text.allSatisfy { $0 == UInt8(ascii: ".") || decimalDigit($0) != nil }
        }
        return text.count <= maxIPv6Length
            && text.allSatisfy { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") || hexDigit($0) != nil }
    }

    /// Text for 4 (IPv4) or 16 (IPv6) address bytes: dotted quad, or RFC 5952 §4: lowercase, no leading
    /// zeros, the longest run (the first on a tie) of two or more zero groups as `::`; IPv4-mapped
    /// addresses as `::ffff:a.b.c.d` (RFC 5952 §5).
    static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map { String($0) }.joined(separator: ".") }
        guard bytes.count == 16 else { return "" }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xFFFF {
            return "::ffff:" + format(Array(bytes[12..<16]))
        }
        var best = 0..<0
        var runStart: Int?
        for index in 0...groups.count {
            if index < groups.count && groups[index] == 0 {
                runStart = runStart ?? index
            } else if let start = runStart {
                if index - start > best.count { best = start..<index }
                runStart = nil
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.count >= 2 else { return hex.joined(separator: ":") }
        return hex[..<best.lowerBound].joined(separator: ":") + "::" + hex[best.upperBound...].joined(separator: ":")
    }

    private static func decimalDigit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
