import Testing

@testable import ProxyProtocol

@Suite("PROXY parser fuzz")
struct FuzzTests {
    /// Checks what must hold for any input: no trap; a complete header fits in the input, is the same without
    /// the bytes after it, and every strict prefix of it needs more data; an invalid verdict is final, more
    /// bytes never change it.
    static func check(_ bytes: [UInt8], maxLength: Int = ProxyHeaderParser.defaultMaxLength) {
        switch ProxyHeaderParser.parse(bytes, maxLength: maxLength) {
        case .complete(let header, let length):
            #expect(length > 0 && length <= bytes.count && length <= max(maxLength, 107))
            #expect(header.version == 1 || header.version == 2)
            #expect((header.source == nil) == (header.destination == nil))
            #expect(header.source == nil || header.command == .proxy)
            // The header alone parses to the same thing: trailing bytes do not matter.
            #expect(
                ProxyHeaderParser.parse(Array(bytes[..<length]), maxLength: maxLength)
                    == .complete(header, length: length))
            for count in 0..<length {
                #expect(ProxyHeaderParser.parse(Array(bytes[..<count]), maxLength: maxLength) == .needMoreData)
            }
        case .invalid(let error):
            #expect(ProxyHeaderParser.parse(bytes + mqttConnect, maxLength: maxLength) == .invalid(error))
        case .needMoreData:
            break
        }
    }

    @Test("20,000 seeded random inputs: random bytes, mutated valid headers and random prefixes")
    func randomInputs() {
        var rng = SplitMix64(seed: 0x5052_4F58_5932)
        let seeds: [[UInt8]] = [
            ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
            ascii("PROXY TCP6 2001:db8::5 ::ffff:10.0.0.1 1 65535\r\n"),
            ascii("PROXY UNKNOWN\r\n"),
            ProxyHeaderEncoder.v2(
                source: ProxyAddress(ip: "10.1.2.3", port: 4), destination: ProxyAddress(ip: "10.4.3.2", port: 1)),
            ProxyHeaderEncoder.v2(
                source: ProxyAddress(ip: "::1", port: 4), destination: ProxyAddress(ip: "fe80::9", port: 1)),
            v2Header(0x21, 0x11, V2ParserTests.ipv4Block + tlv(0x02, ascii("a.example")) + tlv(0x20, [1, 0, 0, 0, 0])),
            ProxyHeaderEncoder.v2Local(),
        ]
        let alphabet = ascii("PROXY TCP4 TCP6 UNKNOWN 0123456789abcdefABCDEF:.\r\n ")
        var completes = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            switch round % 4 {
            case 0:
                // Pure noise, half of it starting like a signature.
                bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if Bool.random(using: &rng) {
                    bytes = (Bool.random(using: &rng) ? ascii("PROXY ") : v2Signature) + bytes
                }
            case 1:
                // Text-ish v1 lines from a small alphabet.
                bytes =
                    ascii("PROXY ")
                    + (0..<Int.random(in: 0...110, using: &rng)).map { _ in
                        alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
                    }
            default:
                // A valid header with a few bytes flipped, inserted or dropped, then cut anywhere.
                bytes = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
                for _ in 0..<Int.random(in: 1...3, using: &rng) where !bytes.isEmpty {
                    let index = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0...2, using: &rng) {
                    case 0: bytes[index] = UInt8.random(in: 0...255, using: &rng)
                    case 1: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: index)
                    default: bytes.remove(at: index)
                    }
                }
                bytes = Array(bytes[..<Int.random(in: 0...bytes.count, using: &rng)]) + mqttConnect
            }
            let maxLength = round % 7 == 0 ? Int.random(in: 0...64, using: &rng) : ProxyHeaderParser.defaultMaxLength
            Self.check(bytes, maxLength: maxLength)
            if case .complete = ProxyHeaderParser.parse(bytes, maxLength: maxLength) { completes += 1 }
        }
        // The mutations keep enough headers intact that the complete path is exercised too.
        #expect(completes > 250)
    }

    @Test("300 random address pairs: every strict prefix of the encoding needs more data, the whole reads back")
    func randomRoundTrips() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<300 {
            let isIPv4 = Bool.random(using: &rng)
            let source = ProxyAddress(ip: randomAddress(isIPv4, &rng), port: Int.random(in: 0...65535, using: &rng))
            let destination = ProxyAddress(
                ip: randomAddress(isIPv4, &rng), port: Int.random(in: 0...65535, using: &rng))
            expectByteByByte(
                ProxyHeaderEncoder.v1(source: source, destination: destination),
                parsesTo: ProxyHeader(version: 1, command: .proxy, source: source, destination: destination))
            expectByteByByte(
                ProxyHeaderEncoder.v2(source: source, destination: destination),
                parsesTo: ProxyHeader(version: 2, command: .proxy, source: source, destination: destination))
        }
    }

    /// A random address in the canonical text form the parser returns.
    private func randomAddress(_ isIPv4: Bool, _ rng: inout SplitMix64) -> String {
        if isIPv4 {
            return IPAddressText.format((0..<4).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
        // Groups that are often zero, so `::` compression and IPv4-mapped forms are exercised.
        let groups = (0..<8).map { _ in
            Bool.random(using: &rng)
                ? 0 : [0xFFFF, UInt16.random(in: 0...0xFFFF, using: &rng)][Int.random(in: 0...1, using: &rng)]
        }
        return IPAddressText.format(groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
    }
}
