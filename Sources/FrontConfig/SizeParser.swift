/// Reads and writes byte sizes: `65536`, `64KiB`, `1MiB`, `1GiB`, `64KB`, `16k`.
///
/// `KiB`/`MiB`/`GiB` and the NGINX/HAProxy shorthands `k`/`m`/`g` are powers of 1024; `KB`/`MB`/`GB` are
/// powers of 1000. Units are matched without regard to case and may follow the number after a space.
/// Pure functions; safe from any thread.
public enum SizeParser {
    /// Bytes per unit, by lowercased spelling.
    private static let units: [String: Int] = [
        "": 1, "b": 1,
        "k": 1 << 10, "kib": 1 << 10, "kb": 1_000,
        "m": 1 << 20, "mib": 1 << 20, "mb": 1_000_000,
        "g": 1 << 30, "gib": 1 << 30, "gb": 1_000_000_000,
    ]

    /// Parses a size such as `65536`, `64KiB` or `1MB` into bytes.
    ///
    /// - Throws: ``ConfigValueError`` for negative or fractional values, unknown units and overflow.
    public static func parse(_ text: String) throws(ConfigValueError) -> Int {
        let trimmed = text.trimmingSpaces()
        guard !trimmed.isEmpty else { throw ConfigValueError("empty size; write e.g. 65536 or 64KiB") }
        if trimmed.hasPrefix("-") { throw ConfigValueError("`\(trimmed)`: sizes cannot be negative") }
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        let unitText = trimmed.dropFirst(digits.count).drop { $0 == " " }
        guard !digits.isEmpty else { throw ConfigValueError("`\(trimmed)` is not a size; write e.g. 65536 or 64KiB") }
        if unitText.first == "." || unitText.first == "," {
            throw ConfigValueError("`\(trimmed)`: sizes are whole numbers; write e.g. 1536KiB instead of 1.5MiB")
        }
        guard let multiplier = units[unitText.lowercased()] else {
            throw ConfigValueError(
                "`\(trimmed)`: unknown size unit `\(unitText)`; use bytes, KiB, MiB, GiB (1024-based) or KB, MB, GB")
        }
        guard let value = Int(digits) else { throw ConfigValueError("`\(trimmed)` is too large") }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw ConfigValueError("`\(trimmed)` is too large") }
        return bytes
    }

    /// Formats bytes with the largest binary unit that divides them exactly: `65536` → `64KiB`, `100` → `100`.
    public static func format(_ bytes: Int) -> String {
        for (name, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes != 0 && bytes % size == 0 {
            return "\(bytes / size)\(name)"
        }
        return "\(bytes)"
    }
}
