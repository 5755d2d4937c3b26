import Synchronization

/// Weighted round robin: each candidate gets turns in proportion to its weight.
///
/// One atomic counter per backend; the turn is mapped onto the candidates' cumulative weights, so
/// a candidate set that changes between picks needs no rebuilt schedule.
public final class RoundRobinBalancer: Balancer {
    private let turn = Atomic<UInt64>(0)

    public init() {}

    public func pick(from candidates: [ServerRuntime], weights: [Double], key: RoutingKey) -> ServerRuntime? {
        let ticket = turn.wrappingAdd(1, ordering: .relaxed).oldValue
        // Weights in 1/64 steps, so that slow-start fractions still get their share of turns.
        let units = weights.map { Int(($0 * 64).rounded(.up)) }
        let total = units.reduce(0, +)
        guard total > 0 else {
            return candidates.isEmpty ? nil : candidates[Int(ticket % UInt64(candidates.count))]
        }
        var slot = Int(ticket % UInt64(total))
        for (server, unit) in zip(candidates, units) {
            if slot < unit { return server }
            slot -= unit
        }
        return candidates.last
    }
}
