extension Sequence where Element == Int {
    /// The sum of the non-negative elements, `Int.max` when it would not fit: caps and counts from a
    /// configuration may each be as large as Int allows (a `max_connections` of every listener added
    /// up once overflowed).
    public func saturatingSum() -> Int {
        var total = 0
        for value in self where value > 0 {
            let (sum, overflow) = total.addingReportingOverflow(value)
            if overflow { return .max }
            total = sum
        }
        return total
    }
}
