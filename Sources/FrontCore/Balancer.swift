import FrontConfig

/// Picks one server for a new session among candidates that are all able to take it.
///
/// Implementations are one per file, pure apart from the counters they keep, and thread-safe:
/// every event loop calls the same instance.
public protocol Balancer: Sendable {
    /// Returns one of `candidates` (never empty, in the backend's list order) for `key`, or nil
    /// when the algorithm cannot decide (the caller then answers "no server"). `weights` are the
    /// candidates' effective weights now (configured weight, scaled down during slow start).
    func pick(from candidates: [ServerRuntime], weights: [Double], key: RoutingKey) -> ServerRuntime?
}

extension BalanceAlgorithm {
    /// A fresh balancer for this algorithm.
    public func makeBalancer() -> any Balancer {
        switch self {
        case .clientID: return ConsistentHashBalancer(keying: .clientID)
        case .username: return ConsistentHashBalancer(keying: .username)
        case .sourceIP: return ConsistentHashBalancer(keying: .sourceIP)
        case .roundRobin: return RoundRobinBalancer()
        case .leastConnections: return LeastConnectionsBalancer()
        case .first: return FirstBalancer()
        }
    }
}
