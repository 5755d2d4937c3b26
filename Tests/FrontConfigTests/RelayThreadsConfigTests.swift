import Testing

@testable import FrontConfig

/// `relay_threads`: auto (one per two event loops, at least one), 0 (off) or a count up to 64.
@Suite("relay_threads")
struct RelayThreadsConfigTests {
    static func yaml(_ value: String) -> String {
        "relay_threads: \(value)\n" + minimalYAML
    }

    @Test("auto, 0 and a count are read")
    func parses() throws {
        #expect(try #require(parseValid(Self.yaml("auto"))).relayThreads == nil)
        #expect(try #require(parseValid(Self.yaml("0"))).relayThreads == 0)
        #expect(try #require(parseValid(Self.yaml("4"))).relayThreads == 4)
    }

    @Test("auto is one relay thread per two event loops, at least one; a count is used as written")
    func threadCount() throws {
        let auto = try #require(parseValid(Self.yaml("auto")))
        #expect([1, 2, 3, 4, 16].map { auto.relayThreadCount(eventLoops: $0) } == [1, 1, 1, 2, 8])
        let off = try #require(parseValid(Self.yaml("0")))
        #expect(off.relayThreadCount(eventLoops: 8) == 0)
        let three = try #require(parseValid(Self.yaml("3")))
        #expect(three.relayThreadCount(eventLoops: 2) == 3)
    }

    @Test("a negative, too large or non-numeric value is refused at its line")
    func refuses() {
        for value in ["-1", "65", "many"] {
            let lines = checkLines(Self.yaml(value))
            #expect(lines.count == 1 && lines[0].contains(":1:") && lines[0].contains("relay_threads"), "\(lines)")
        }
    }
}
