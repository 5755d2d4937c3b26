/// Reads and writes the duration spelling of the configuration: `250ms`, `5s`, `10m`, `2h`, `1m30s`, `1.5s`.
///
/// Units are `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h` and `d`; components may be combined (`1h30m`) and may
/// carry a decimal fraction (`1.5s`). A bare number is refused (except `0`): `timeout: 5` is ambiguous between
/// HAProxy's milliseconds and NGINX's seconds, so the loader makes the operator say which. Pure functions;
/// safe from any thread.
public enum DurationParser {
    /// Nanoseconds per unit, longest spellings first so `ms` is not read as `m` + garbage.
    private static let units: [(name: String, nanoseconds: Int64)] = [
        ("ns", 1),
        ("us", 1_000),
        ("µs", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
        ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
        ("d", 86_400_000_000_000),
    ]

    /// Parses a duration such as `250ms`, `5s`, `1m30s` or `0`.
    ///
    /// - Throws: ``ConfigValueError`` naming the bad text: no unit, a negative value, an unknown unit,
    ///   or a value too large to represent.
    public static func parse(_ text: String) throws(ConfigValueError) -> Duration {
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty else { throw ConfigValueError("empty duration; write e.g. 5s or 250ms") }
        if trimmed.hasPrefix("-") { throw ConfigValueError("`\(trimmed)`: durations cannot be negative") }
        if trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) && trimmed.contains(where: \.isNumber) {
            guard trimmed.allSatisfy({ $0 == "0" || $0 == "." }) else {
                throw ConfigValueError("`\(trimmed)` has no unit; durations need a unit, e.g. 5s")
            }
            return .zero
        }
        var total: Int64 = 0
        var rest = Substring(trimmed)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty else { throw ConfigValueError("`\(trimmed)` is not a duration; write e.g. 5s") }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            rest = rest.dropFirst(unitText.count)
            guard !unitText.isEmpty else {
                throw ConfigValueError("`\(trimmed)`: `\(number)` has no unit; durations need a unit, e.g. 5s")
            }
            guard let unit = units.first(where: { $0.name == unitText }) else {
                throw ConfigValueError("`\(trimmed)`: unknown unit `\(unitText)`; use ms, s, m or h")
            }
            let part = try nanoseconds(number: number, unit: unit.nanoseconds, whole: trimmed)
            let (sum, overflow) = total.addingReportingOverflow(part)
            guard !overflow else { throw tooLarge(trimmed) }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// Formats a duration for log lines and messages: `0s`, `250ms`, `1.5s`, `1m30s`, `2h`.
    ///
    /// Shows at most three decimals of the leading unit below a minute (truncated, not rounded, so a value
    /// just under a unit never prints as `1000ms`). The output parses back with ``parse(_:)``.
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanosPerSecond: Int64 = 1_000_000_000
        if seconds < 0 || (seconds == 0 && attoseconds < 0) {
            return "-" + format(.zero - duration)
        }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: nanosPerSecond)
        guard !overflow, scaled <= Int64.max - nanosPerSecond else { return "\(seconds)s" }
        let nanos = scaled + attoseconds / 1_000_000_000
        switch nanos {
        case 0: return "0s"
        case ..<1_000: return "\(nanos)ns"
        case ..<1_000_000: return decimal(nanos, unit: 1_000) + "us"
        case ..<nanosPerSecond: return decimal(nanos, unit: 1_000_000) + "ms"
        case ..<(60 * nanosPerSecond): return decimal(nanos, unit: nanosPerSecond) + "s"
        default:
            let hours = nanos / (3_600 * nanosPerSecond)
            let minutes = nanos / (60 * nanosPerSecond) % 60
            let rest = nanos % (60 * nanosPerSecond)
            var text = hours > 0 ? "\(hours)h" : ""
            if minutes > 0 { text += "\(minutes)m" }
            if rest >= 1_000_000 { text += decimal(rest, unit: nanosPerSecond) + "s" }
            return text
        }
    }

    /// One `NUMBER` of a `NUMBERunit` component, in nanoseconds. Fractions finer than 1ns are dropped.
    private static func nanoseconds(
        number: Substring, unit: Int64, whole: String
    ) throws(ConfigValueError) -> Int64 {
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let integerText = parts.first, number.contains(where: \.isNumber) else {
            throw ConfigValueError("`\(whole)` is not a duration; write e.g. 5s")
        }
        var value: Int64 = 0
        for digit in integerText {
            guard let digitValue = digit.wholeNumberValue else { throw tooLarge(whole) }
            let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
            let (plus, overflowPlus) = times.addingReportingOverflow(Int64(digitValue))
            guard !overflowTimes, !overflowPlus else { throw tooLarge(whole) }
            value = plus
        }
        let (result, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow else { throw tooLarge(whole) }
        guard parts.count == 2 else { return result }
        var fraction: Int64 = 0
        var scale = unit
        for digit in parts[1] {
            scale /= 10
            fraction += Int64(digit.wholeNumberValue ?? 0) * scale
        }
        let (sum, overflowSum) = result.addingReportingOverflow(fraction)
        guard !overflowSum else { throw tooLarge(whole) }
        return sum
    }

    private static func tooLarge(_ text: String) -> ConfigValueError {
        ConfigValueError("`\(text)` is too large for a duration")
    }

    /// `value / unit` with up to three decimals, trailing zeros removed: `1500, 1000` → `1.5`.
    private static func decimal(_ value: Int64, unit: Int64) -> String {
        let whole = value / unit
        let thousandths = value % unit * 1_000 / unit
        guard thousandths > 0 else { return "\(whole)" }
        var fraction = String(thousandths)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }
}

/// Whitespace trimming shared by the value parsers.
extension String {
    /// The string without leading and trailing spaces and tabs (no Foundation needed).
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
