import ProxyProtocol
import Testing

@Suite("PROXY v1 parser, invalid lines")
struct V1InvalidTests {
    /// Each bad line, the error, and how many bytes the parser needs to see to say so.
    static let cases: [(String, ProxyHeaderError, Int)] = [
        ("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", .v1UnknownProtocol("TCP5"), 10),
        ("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", .v1UnknownProtocol("UD"), 8),
        ("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", .v1UnknownProtocol("t"), 7),
        ("PROXY TCP44 1.2.3.4 5.6.7.8 1 2\r\n", .v1UnknownProtocol("TCP44"), 11),
        ("PROXY UNKNOWNX\r\n", .v1UnknownProtocol("UNKNOWNX"), 14),
        ("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", .v1UnknownProtocol(""), 7),
        ("PROXY \r\n", .v1UnknownProtocol(""), 8),
        ("PROXY TCP4\r\n", .v1MissingField("source address"), 12),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", .v1MissingField("destination port"), 30),
        ("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", .v1BadSeparator(offset: 10), 12),
        ("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", .v1BadSeparator(offset: 18), 20),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n", .v1BadSeparator(offset: 28), 31),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", .v1ExtraField(offset: 30), 31),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", .v1ExtraField(offset: 30), 31),
        // §2.1 IPv4: four decimal integers 0...255, single dots, no leading zeros.
        ("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", .v1InvalidAddress(field: "source address", value: "01.2.3.4"), 20),
        ("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", .v1InvalidAddress(field: "source address", value: "1.2.3.256"), 21),
        ("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", .v1InvalidAddress(field: "source address", value: "1.2.3"), 17),
        ("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", .v1InvalidAddress(field: "source address", value: "1.2.3.4.5"), 21),
        ("PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", .v1InvalidAddress(field: "source address", value: "1..3.4"), 18),
        ("PROXY TCP4 1.2.3.4 5.6.7.00 1 2\r\n", .v1InvalidAddress(field: "destination address", value: "5.6.7.00"), 28),
        ("PROXY TCP4 ::1 5.6.7.8 1 2\r\n", .v1InvalidAddress(field: "source address", value: ":"), 12),
        ("PROXY TCP4 1.2.3.4 5.6.7.8x 1 2\r\n", .v1InvalidAddress(field: "destination address", value: "5.6.7.8x"), 27),
        ("PROXY TCP4 1111.2.3.4 5.6.7.8 1 2\r\n", .v1InvalidAddress(field: "source address", value: "1111.2.3.4"), 22),
        (
            "PROXY TCP4 1.2.3.4 5.6.7.8.9.10.11.12 1 2\r\n",
            .v1InvalidAddress(field: "destination address", value: "5.6.7.8.9.10.11."), 35
        ),
        // §2.1 IPv6: hex groups, at most one `::`, 128 bits, and the family must match the protocol.
        ("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", .v1InvalidAddress(field: "source address", value: "1.2.3.4"), 19),
        ("PROXY TCP6 :::1 ::1 1 2\r\n", .v1InvalidAddress(field: "source address", value: ":::1"), 16),
        ("PROXY TCP6 1::2::3 ::1 1 2\r\n", .v1InvalidAddress(field: "source address", value: "1::2::3"), 19),
        ("PROXY TCP6 12345:: ::1 1 2\r\n", .v1InvalidAddress(field: "source address", value: "12345::"), 19),
        (
            "PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", .v1InvalidAddress(field: "source address", value: "1:2:3:4:5:6:7"),
            25
        ),
        (
            "PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n",
            .v1InvalidAddress(field: "source address", value: "1:2:3:4:5:6:7:8:9"), 29
        ),
        (
            "PROXY TCP6 1:2:3:4:5:6:7::8 ::1 1 2\r\n",
            .v1InvalidAddress(field: "source address", value: "1:2:3:4:5:6:7::8"), 28
        ),
        ("PROXY TCP6 1: ::1 1 2\r\n", .v1InvalidAddress(field: "source address", value: "1:"), 14),
        ("PROXY TCP6 :1 ::1 1 2\r\n", .v1InvalidAddress(field: "source address", value: ":1"), 14),
        ("PROXY TCP6 ::1 fe80::1%eth0 1 2\r\n", .v1InvalidAddress(field: "destination address", value: "fe80::1%"), 23),
        ("PROXY TCP6 ::1 g::1 1 2\r\n", .v1InvalidAddress(field: "destination address", value: "g"), 16),
        (
            "PROXY TCP6 ::ffff:1.2.3.04 ::1 1 2\r\n",
            .v1InvalidAddress(field: "source address", value: "::ffff:1.2.3.04"), 27
        ),
        ("PROXY TCP6 ::1.2.3.4:5 ::1 1 2\r\n", .v1InvalidAddress(field: "source address", value: "::1.2.3.4:5"), 23),
        // §2.1 ports: decimal 0...65535, no leading zeros.
        ("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", .v1InvalidPort(field: "source port", value: "65536"), 32),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", .v1InvalidPort(field: "source port", value: "01"), 29),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n", .v1InvalidPort(field: "destination port", value: "00"), 31),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n", .v1InvalidPort(field: "destination port", value: "-"), 30),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n", .v1InvalidPort(field: "destination port", value: "123456"), 35),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 0x10 2\r\n", .v1InvalidPort(field: "source port", value: "0x"), 29),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n", .v1InvalidPort(field: "source port", value: "99999"), 32),
        // §2.1: only CRLF ends the line.
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", .v1BadLineEnding(offset: 30), 31),
        ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", .v1BadLineEnding(offset: 30), 32),
        ("PROXY UNKNOWN\rX\r\n", .v1BadLineEnding(offset: 13), 15),
        ("PROXY UNKNOWN junk\njunk\r\n", .v1BadLineEnding(offset: 18), 19),
        ("PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", .v1InvalidAddress(field: "source address", value: "1.2.3.4\t"), 19),
    ]

    @Test("each bad line is refused with its error as soon as the bad byte arrives", arguments: cases)
    func invalidLine(line: String, error: ProxyHeaderError, decidedAfter: Int) {
        let verdict = firstVerdict(ascii(line))
        #expect(verdict.result == .invalid(error))
        #expect(verdict.prefixLength == decidedAfter)
        // The whole line gets the same error: it quotes a field only up to its first bad byte.
        #expect(ProxyHeaderParser.parse(ascii(line)) == .invalid(error))
    }

    @Test("no CRLF within 107 bytes is refused at byte 107")
    func lineTooLong() {
        let line = ascii("PROXY UNKNOWN " + String(repeating: "x", count: 200))
        let verdict = firstVerdict(line)
        #expect(verdict.prefixLength == 107)
        #expect(verdict.result == .invalid(.v1LineTooLong(limit: 107)))
        // A CR as the 107th byte leaves no room for its LF.
        let late = ascii("PROXY UNKNOWN " + String(repeating: "x", count: 92) + "\r\n")
        #expect(late.count == 108)
        let lateVerdict = firstVerdict(late)
        #expect(lateVerdict.prefixLength == 107)
        #expect(lateVerdict.result == .invalid(.v1LineTooLong(limit: 107)))
    }
}
