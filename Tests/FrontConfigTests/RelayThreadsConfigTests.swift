import Testing

@testable import FrontConfig

/// `relay_threads`: auto (one per event loop), 0 (off) or a count up to 64.
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

    @Test("a negative, too large or non-numeric value is refused at its line")
    func refuses() {
        for value in ["-1", "65", "many"] {
            let lines = checkLines(Self.yaml(value))
            #expect(lines.count == 1 && lines[0].contains(":1:") && lines[0].contains("relay_threads"), "\(lines)")
        }
    }
}
