import Testing

@testable import FrontConfig

/// `move_rate`, `rebalance` and `server_reference` of a backend.
@Suite("move_rate, rebalance, server_reference")
struct MoveConfigTests {
    /// The minimal config with `extra` lines in its backend.
    func backendYAML(_ extra: String) -> String {
        minimalYAML.replacingOccurrences(of: "  - name: b\n", with: "  - name: b\n\(extra)\n")
    }

    @Test("unwritten: 500 sessions/s, manual, no Server Reference")
    func defaults() throws {
        let backend = try #require(parseValid(minimalYAML)?.backends.first)
        #expect(backend.moveRate == 500)
        #expect(backend.rebalance == .manual)
        #expect(backend.serverReference == nil)
    }

    @Test("written values are read; 0 is all at once")
    func written() throws {
        let yaml = backendYAML(
            "    move_rate: 0\n    rebalance: auto\n    server_reference: \"broker-2.example:1883\"")
        let backend = try #require(parseValid(yaml)?.backends.first)
        #expect(backend.moveRate == 0)
        #expect(backend.rebalance == .auto)
        #expect(backend.serverReference == "broker-2.example:1883")
    }

    @Test(
        "bad values are refused at their key",
        arguments: [
            ("    move_rate: -1", "move_rate"), ("    move_rate: fast", "move_rate"),
            ("    rebalance: sometimes", "rebalance"),
        ])
    func refused(line: String, key: String) {
        let lines = checkLines(backendYAML(line))
        #expect(lines.count == 1 && lines[0].contains("backends[0].\(key)"), "\(lines)")
    }

    @Test("a Server Reference longer than an MQTT string is refused")
    func longReference() {
        let lines = checkLines(backendYAML("    server_reference: \(String(repeating: "x", count: 70_000))"))
        #expect(lines.count == 1 && lines[0].contains("server_reference") && lines[0].contains("65535"), "\(lines)")
    }
}
