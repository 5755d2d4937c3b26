/// How many sessions each server holds beyond its weighted share of a backend's sessions: what a
/// rebalance moves under the balancers that do not route by a key (round-robin,
/// least-connections, first).
public enum RebalanceShares {
    /// For each server (`counts[i]` sessions, `weights[i]`, `taking[i]`: whether new sessions may
    /// go to it), the sessions over its share of the total: a server taking sessions may keep
    /// its weighted share rounded up, one that takes none keeps none.
    public static func excess(counts: [Int], weights: [Double], taking: [Bool]) -> [Int] {
        let total = counts.reduce(0, +)
        let weightSum = zip(weights, taking).reduce(0.0) { $0 + ($1.1 ? max($1.0, 0) : 0) }
        return counts.indices.map { index in
            guard taking[index], weightSum > 0 else {
                // Nowhere to go: nothing is excess when no server takes sessions.
                return weightSum > 0 ? counts[index] : 0
            }
            let share = (Double(total) * max(weights[index], 0) / weightSum).rounded(.up)
            return max(0, counts[index] - Int(share))
        }
    }
}
