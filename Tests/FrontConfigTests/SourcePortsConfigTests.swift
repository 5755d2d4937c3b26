import Testing

@testable import FrontConfig

/// `source_ports: LOW-HIGH` on a backend.
@Suite("source_ports")
struct SourcePortsConfigTests {
    static func yaml(_ ports: String, sourceIPs: String = "\n    source_ips: [127.0.2.1]") -> String {
        minimalYAML.replacingOccurrences(
            of: "  - name: b\n", with: "  - name: b\n    source_ports: \(ports)\(sourceIPs)\n")
    }

    @Test("a range is read with its bounds")
    func parses() throws {
        #expect(try SourcePortRange.parse("1024-65535") == SourcePortRange(lower: 1024, upper: 65_535))
        #expect(try SourcePortRange.parse("20000 - 20000").count == 1)
        #expect(checkLines(Self.yaml("20000-29999")) == [])
    }

    @Test("malformed ranges name the value and the fix")
    func refusesBadRanges() {
        for (text, message) in [
            ("1024", "`1024` is not a port range; use LOW-HIGH, e.g. 1024-65535"),
            ("a-b", "`a-b` is not a port range; use LOW-HIGH, e.g. 1024-65535"),
            ("0-100", "`0-100`: ports must be within 1...65535"),
            ("100-70000", "`100-70000`: ports must be within 1...65535"),
            ("200-100", "`200-100`: the low port is above the high one"),
        ] {
            #expect(throws: ConfigValueError(message)) { try SourcePortRange.parse(text) }
        }
        let lines = checkLines(Self.yaml("200-100"))
        #expect(
            lines.count == 1
                && lines[0].hasSuffix("backends[0].source_ports: `200-100`: the low port is above the high one"),
            "\(lines)")
    }

    @Test("source_ports without source_ips is an error")
    func needsSourceIPs() {
        let lines = checkLines(Self.yaml("20000-29999", sourceIPs: ""))
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("backends[0].source_ports: source_ports needs source_ips") == true, "\(lines)")
    }

    @Test("overlap with the ephemeral range, and the widest unprivileged range outside it")
    func ephemeralOverlap() {
        let linuxDefault = 32768...60999
        #expect(SourcePortRange(lower: 1024, upper: 65535).overlap(withEphemeral: linuxDefault) == 32768...60999)
        #expect(SourcePortRange(lower: 30000, upper: 33000).overlap(withEphemeral: linuxDefault) == 32768...33000)
        #expect(SourcePortRange(lower: 60999, upper: 61500).overlap(withEphemeral: linuxDefault) == 60999...60999)
        #expect(SourcePortRange(lower: 1024, upper: 32767).overlap(withEphemeral: linuxDefault) == nil)
        #expect(SourcePortRange(lower: 61000, upper: 65535).overlap(withEphemeral: linuxDefault) == nil)
        #expect(SourcePortRange.outside(ephemeral: linuxDefault) == SourcePortRange(lower: 1024, upper: 32767))
        #expect(SourcePortRange.outside(ephemeral: 1024...40000) == SourcePortRange(lower: 40001, upper: 65535))
        #expect(SourcePortRange.outside(ephemeral: 10240...65535) == SourcePortRange(lower: 1024, upper: 10239))
        #expect(SourcePortRange.outside(ephemeral: 1024...65535) == nil)
        #expect(SourcePortRange.outside(ephemeral: 1...65535) == nil)
    }
}
