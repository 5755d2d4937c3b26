import MQTTWire
import Testing

@Suite("CONNECT parser: randomized inputs")
struct ConnectParserFuzzTests {
    /// Valid packets to mutate.
    static let corpus: [[UInt8]] = [
        SpecPackets.v311Minimal, SpecPackets.v31, SpecPackets.v311Full, SpecPackets.v5Full,
        MQTTConnect(
            version: .v5, clientID: "fz", will: MQTTWill(topic: "t", payload: [1, 2], properties: [0x09, 0, 1, 7]),
            properties: [0x26, 0, 1, 0x61, 0, 0, 0x16, 0, 0, 0x15, 0, 1, 0x61]
        ).encode(),
    ]

    /// Checks what must hold for any input: a complete packet lies inside the buffer and re-parses the same
    /// from exactly its bytes and from its re-encoding; any verdict other than needMoreData is unchanged by
    /// bytes appended after it.
    static func checkInvariants(_ bytes: [UInt8], maxPacketSize: Int, extra: [UInt8]) {
        let result = parse(bytes, maxPacketSize: maxPacketSize)
        switch result {
        case .needMoreData:
            return
        case .complete(let connect, let length):
            #expect(length > 0 && length <= bytes.count && length <= maxPacketSize)
            #expect(parse(Array(bytes[0..<length]), maxPacketSize: maxPacketSize) == result)
            let encoded = connect.encode()
            #expect(parse(encoded) == .complete(connect, length: encoded.count))
        case .invalid:
            break
        }
        #expect(parse(bytes + extra, maxPacketSize: maxPacketSize) == result)
    }

    @Test("20,000 random and mutated buffers return without trapping")
    func randomizedNoCrash() {
        var rng = SplitMix64(seed: 0x4D51_5454_2026)
        let limits = [0, 2, 16, 40, 64, 256, testMaxPacketSize]
        var verdicts = (needMore: 0, complete: 0, invalid: 0)
        for iteration in 0..<20_000 {
            var bytes: [UInt8]
            if iteration % 2 == 0 {
                // Random bytes, half of them starting like a CONNECT with a small Remaining Length.
                let count = Int.random(in: 0...80, using: &rng)
                bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if count >= 2 && Bool.random(using: &rng) {
                    bytes[0] = 0x10
                    bytes[1] = UInt8.random(in: 0...UInt8(min(count - 2, 127)), using: &rng)
                }
            } else {
                bytes = Self.corpus[Int.random(in: 0..<Self.corpus.count, using: &rng)]
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    Self.mutate(&bytes, using: &rng)
                }
            }
            let maxPacketSize = limits[Int.random(in: 0..<limits.count, using: &rng)]
            let extra = (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            switch parse(bytes, maxPacketSize: maxPacketSize) {
            case .needMoreData: verdicts.needMore += 1
            case .complete: verdicts.complete += 1
            case .invalid: verdicts.invalid += 1
            }
            Self.checkInvariants(bytes, maxPacketSize: maxPacketSize, extra: extra)
        }
        // The loop must reach all three verdicts to be worth anything.
        #expect(verdicts.needMore > 100 && verdicts.complete > 100 && verdicts.invalid > 100)
    }

    /// One random edit: overwrite, flip a bit, insert, delete, truncate or duplicate a range.
    static func mutate(_ bytes: inout [UInt8], using rng: inout SplitMix64) {
        guard !bytes.isEmpty else {
            bytes.append(UInt8.random(in: 0...255, using: &rng))
            return
        }
        let index = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: bytes[index] = UInt8.random(in: 0...255, using: &rng)
        case 1: bytes[index] ^= 1 << UInt8.random(in: 0...7, using: &rng)
        case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: index)
        case 3: bytes.remove(at: index)
        case 4: bytes.removeLast(bytes.count - index)
        default:
            let end = Int.random(in: index...bytes.count, using: &rng)
            bytes.insert(contentsOf: bytes[index..<end], at: end)
        }
    }
}
