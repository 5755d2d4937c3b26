import Synchronization

/// Fewest active sessions per unit of weight; ties go round robin so that equal servers share
/// a burst instead of the first one taking it all.
public final class LeastConnectionsBalancer: Balancer {
    private let turn = Atomic<UInt64>(0)

    public init() {}

    public func pick(from candidates: [ServerRuntime], weights: [Double], key: RoutingKey) -> ServerRuntime? {
        guard !candidates.isEmpty else { return nil }
        let start = Int(turn.wrappingAdd(1, ordering: .relaxed).oldValue % UInt64(candidates.count))
        var best: ServerRuntime?
        var bestLoad = Double.infinity
        for offset in 0..<candidates.count {
            let index = (start + offset) % candidates.count
            let server = candidates[index]
            let weight = weights[index]
            let load = weight > 0 ? Double(server.activeConnections) / weight : .infinity
            if load < bestLoad || best == nil {
                bestLoad = load
                best = server
            }
        }
        return best
    }
}
