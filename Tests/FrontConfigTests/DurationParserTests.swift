import Testing

@testable import FrontConfig

@Suite struct DurationParserTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("5s", .seconds(5)),
        ("10m", .seconds(600)),
        ("2h", .seconds(7_200)),
        ("1d", .seconds(86_400)),
        ("1m30s", .seconds(90)),
        ("1h2m3s", .seconds(3_723)),
        ("1.5s", .milliseconds(1_500)),
        (".5s", .milliseconds(500)),
        ("0", .zero),
        ("0s", .zero),
        ("0.0", .zero),
        ("100us", .microseconds(100)),
        ("100µs", .microseconds(100)),
        ("42ns", .nanoseconds(42)),
        (" 5s ", .seconds(5)),
    ])
    func parsesValid(text: String, expected: Duration) throws {
        #expect(try DurationParser.parse(text) == expected)
    }

    @Test(arguments: [
        ("5", "`5` has no unit; durations need a unit, e.g. 5s"),
        ("1.5", "`1.5` has no unit; durations need a unit, e.g. 5s"),
        ("-5s", "`-5s`: durations cannot be negative"),
        ("5x", "`5x`: unknown unit `x`; use ms, s, m or h"),
        ("5 s", "`5 s`: unknown unit ` s`; use ms, s, m or h"),
        ("1m30", "`1m30`: `30` has no unit; durations need a unit, e.g. 5s"),
        ("s", "`s` is not a duration; write e.g. 5s"),
        ("1..5s", "`1..5s` is not a duration; write e.g. 5s"),
        ("", "empty duration; write e.g. 5s or 250ms"),
        ("9999999999999999h", "`9999999999999999h` is too large for a duration"),
    ])
    func refusesInvalid(text: String, message: String) {
        #expect(throws: ConfigValueError(message)) { try DurationParser.parse(text) }
    }

    @Test(arguments: [
        (Duration.zero, "0s"),
        (.nanoseconds(42), "42ns"),
        (.microseconds(1_500), "1.5ms"),
        (.nanoseconds(12_500), "12.5us"),
        (.milliseconds(250), "250ms"),
        (.milliseconds(1_500), "1.5s"),
        (.milliseconds(1_234_567), "20m34.567s"),
        (.milliseconds(999_999), "16m39.999s"),
        (.milliseconds(999), "999ms"),
        (.seconds(59), "59s"),
        (.seconds(90), "1m30s"),
        (.seconds(600), "10m"),
        (.seconds(7_200), "2h"),
        (.seconds(3_605), "1h5s"),
        (.seconds(-2), "-2s"),
    ])
    func formats(duration: Duration, text: String) {
        #expect(DurationParser.format(duration) == text)
    }

    @Test(arguments: ["250ms", "1.5s", "1m30s", "2h", "1h5s", "12.5us", "20m34.567s"])
    func formatRoundTrips(text: String) throws {
        #expect(DurationParser.format(try DurationParser.parse(text)) == text)
    }
}
