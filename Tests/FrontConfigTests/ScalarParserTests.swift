import Testing

@testable import FrontConfig

@Suite struct ScalarParserTests {
    @Test(arguments: [
        ("PING\\r\\n", Array("PING\r\n".utf8)),
        ("a\\tb", [0x61, 0x09, 0x62]),
        ("\\\\", [0x5C]),
        ("\\x00\\xff\\x7F", [0x00, 0xFF, 0x7F]),
        ("é", [0xC3, 0xA9]),
    ])
    func decodesSendEscapes(text: String, bytes: [UInt8]) throws {
        #expect(try ScalarParser.escapedBytes(text) == bytes)
    }

    @Test(arguments: [
        ("PING\\q", "bad escape `\\q` in `PING\\q`; use \\r, \\n, \\t, \\\\ or \\xNN"),
        ("\\x4", "bad escape `\\x4` in `\\x4`; \\x needs two hex digits, e.g. \\x00"),
        ("\\xZZ", "bad escape `\\xZZ` in `\\xZZ`; \\x needs two hex digits, e.g. \\x00"),
        ("PING\\", "`PING\\` ends with a lone backslash; write \\\\ for a backslash"),
    ])
    func refusesBadEscapes(text: String, message: String) {
        #expect(throws: ConfigValueError(message)) { try ScalarParser.escapedBytes(text) }
    }

    @Test func booleansAreTrueOrFalseOnly() throws {
        #expect(try ScalarParser.bool("true"))
        #expect(try !ScalarParser.bool("false"))
        for bad in ["yes", "no", "on", "1", ""] {
            #expect(throws: ConfigValueError("`\(bad)` is not a boolean; use true or false")) {
                try ScalarParser.bool(bad)
            }
        }
    }

    @Test func integersHonourRanges() throws {
        #expect(try ScalarParser.integer("100_000", atLeast: 0) == 100_000)
        #expect(throws: ConfigValueError("must be at least 1, got 0")) { try ScalarParser.integer("0", atLeast: 1) }
        #expect(throws: ConfigValueError("must be at most 256, got 300")) {
            try ScalarParser.integer("300", in: 0...256)
        }
        #expect(throws: ConfigValueError("`1.5` is not a whole number")) { try ScalarParser.integer("1.5", atLeast: 0) }
    }

    @Test func suggestsCloseWords() {
        #expect(Suggestion.closest(to: "bakend", among: YAMLReader.listenerKeys) == "backend")
        #expect(Suggestion.closest(to: "warn", among: ["info", "warning", "error"]) == "warning")
        #expect(Suggestion.closest(to: "zzzzzz", among: YAMLReader.listenerKeys) == nil)
        #expect(Suggestion.closest(to: "tsl", among: YAMLReader.listenerKeys) == "tls")
        #expect(Suggestion.closest(to: "foo", among: YAMLReader.rootKeys) == nil)
        #expect(Suggestion.editDistance("kitten", "sitting") == 3)
        #expect(Suggestion.editDistance("tsl", "tls") == 1)
    }
}
