/// Number and size spellings shared by the `tune` checks and snippets: `600,064`, `4.1 GiB`.
enum TuneFormat {
    /// `1234567` → `1,234,567`.
    static func count<Number: BinaryInteger>(_ value: Number) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return value < 0 ? "-" + grouped : grouped
    }

    /// Bytes in binary units with one decimal: `3686` → `3.6 KiB`, `4.1 GiB`.
    static func bytes(_ value: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var scaled = value
        var unit = 0
        while scaled >= 1024 && unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        if unit == 0 { return "\(Int(scaled)) B" }
        let tenths = Int((scaled * 10).rounded())
        let decimal = tenths % 10 == 0 ? "" : ".\(tenths % 10)"
        return "\(tenths / 10)\(decimal) \(units[unit])"
    }

    /// A share as a whole percentage: `0.8` → `80%`.
    static func percent(_ fraction: Double) -> String {
        "\(Int((fraction * 100).rounded()))%"
    }

    /// The smallest power of two at or above `value` (LimitNOFILE values operators recognise: 1048576).
    static func powerOfTwo(atLeast value: UInt64) -> UInt64 {
        var result: UInt64 = 1
        while result < value && result < (1 << 62) { result <<= 1 }
        return result
    }
}
