import Synchronization

/// Weighted round robin: each candidate gets turns in proportion to its weight.
///
/// One atomic counter per backend; the turn is mapped onto the candidates' cumulative weights, so
/// a candidate set that changes between picks needs no rebuilt schedule.
public final class RoundRobinBalancer: Balancer {
    private let turn = Atomic<UInt64>(0)

    public init() {}

    public func pick(from candidates: [ServerRuntime], key: RoutingKey) -> ServerRuntime? {
        let weights = candidates.map { max($0.config.weight, 0) }
        let total = weights.reduce(0, +)
        let ticket = turn.wrappingAdd(1, ordering: .relaxed).oldValue
        guard total > 0 else {
            return candidates.isEmpty ? nil : candidates[Int(ticket % UInt64(candidates.count))]
        }
        var slot = Int(ticket % UInt64(total))
        for (server, weight) in zip(candidates, weights) {
            if slot < weight { return server }
            slot -= weight
        }
        return candidates.last
    }
}
