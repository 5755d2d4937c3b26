/// Converters from a YAML scalar's text to the small value types of the configuration.
///
/// Each takes the text exactly as written (YAML's own type guessing is ignored, so `name: 1.10` stays
/// `"1.10"` and `reuse_port: yes` is refused rather than read as true) and throws a ``ConfigValueError``
/// that names the bad value. Pure functions; safe from any thread.
enum ScalarParser {
    /// `true` or `false` (also `True`/`TRUE`/`False`/`FALSE`, the YAML 1.2 core spellings); never yes/no/on/off.
    static func bool(_ text: String) throws(ConfigValueError) -> Bool {
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: throw ConfigValueError("`\(text)` is not a boolean; use true or false")
        }
    }

    /// A whole number within `range`; `_` between digits is allowed (`100_000`).
    static func integer(_ text: String, in range: ClosedRange<Int>) throws(ConfigValueError) -> Int {
        let digits = text.trimmingSpaces().filter { $0 != "_" }
        guard let value = Int(digits) else {
            if digits.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "+" }) && !digits.isEmpty {
                throw ConfigValueError("`\(text)` is too large")
            }
            throw ConfigValueError("`\(text)` is not a whole number")
        }
        guard value >= range.lowerBound else {
            throw ConfigValueError("must be at least \(range.lowerBound), got \(value)")
        }
        guard value <= range.upperBound else {
            throw ConfigValueError("must be at most \(range.upperBound), got \(value)")
        }
        return value
    }

    /// A whole number ≥ `minimum` with no upper bound.
    static func integer(_ text: String, atLeast minimum: Int) throws(ConfigValueError) -> Int {
        try integer(text, in: minimum...Int.max)
    }

    /// A finite number greater than zero (`1.5`).
    static func positiveNumber(_ text: String) throws(ConfigValueError) -> Double {
        guard let value = Double(text.trimmingSpaces()), value.isFinite else {
            throw ConfigValueError("`\(text)` is not a number")
        }
        guard value > 0 else { throw ConfigValueError("must be greater than 0, got \(text)") }
        return value
    }

    /// One of an enum's raw values; the message lists them all and suggests the closest.
    static func choice<Value: RawRepresentable & CaseIterable>(
        _ text: String, of type: Value.Type
    ) throws(ConfigValueError) -> Value where Value.RawValue == String {
        if let value = Value(rawValue: text) { return value }
        let allowed = Value.allCases.map(\.rawValue)
        let hint = Suggestion.hint(for: text, among: allowed)
        throw ConfigValueError("`\(text)` is not one of \(allowed.joined(separator: ", "))\(hint)")
    }

    /// A listener, backend or server name: used in metric labels, log fields and admin URL paths, so it
    /// must be non-empty and free of spaces, `/`, quotes and control characters.
    static func name(_ text: String) throws(ConfigValueError) -> String {
        guard !text.isEmpty else { throw ConfigValueError("names cannot be empty") }
        let isBad: (Character) -> Bool = { character in
            character.isWhitespace || "/\"\\".contains(character) || (character.asciiValue ?? 0x20) < 0x20
        }
        if let bad = text.first(where: isBad) {
            let shown = bad.isWhitespace ? "a space" : "`\(bad)`"
            throw ConfigValueError("name `\(text)` contains \(shown); names appear in metric labels and admin URLs")
        }
        return text
    }

    /// Any non-empty string (tokens, passwords, globs, `expect`).
    static func text(_ text: String) throws(ConfigValueError) -> String {
        guard !text.isEmpty else { throw ConfigValueError("cannot be empty") }
        return text
    }

    /// Decodes `\r`, `\n`, `\t`, `\\` and `\xNN` in a health-check `send` string into bytes; other
    /// characters are sent as their UTF-8 bytes. Write the value in single quotes (or plain) so YAML
    /// leaves the backslashes alone; in double quotes YAML decodes the escapes itself first.
    static func escapedBytes(_ text: String) throws(ConfigValueError) -> [UInt8] {
        guard !text.isEmpty else { throw ConfigValueError("cannot be empty") }
        var bytes: [UInt8] = []
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            guard scalar == "\\" else {
                bytes.append(contentsOf: Array(String(scalar).utf8))
                continue
            }
            switch iterator.next() {
            case "r": bytes.append(0x0D)
            case "n": bytes.append(0x0A)
            case "t": bytes.append(0x09)
            case "\\": bytes.append(0x5C)
            case "x":
                let high = iterator.next()
                let low = iterator.next()
                guard let high, let low, let value = UInt8(String([Character(high), Character(low)]), radix: 16)
                else {
                    let got = [high, low].compactMap { $0.map(String.init) }.joined()
                    throw ConfigValueError("bad escape `\\x\(got)` in `\(text)`; \\x needs two hex digits, e.g. \\x00")
                }
                bytes.append(value)
            case let other?:
                throw ConfigValueError("bad escape `\\\(other)` in `\(text)`; use \\r, \\n, \\t, \\\\ or \\xNN")
            case nil:
                throw ConfigValueError("`\(text)` ends with a lone backslash; write \\\\ for a backslash")
            }
        }
        return bytes
    }
}
