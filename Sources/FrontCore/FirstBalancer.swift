/// Active-passive: the first candidate in list order. The backup tier is handled by the caller
/// (``BackendRuntime``), so with one primary and one backup the primary wins while it is usable.
public struct FirstBalancer: Balancer {
    public init() {}

    public func pick(from candidates: [ServerRuntime], weights: [Double], key: RoutingKey) -> ServerRuntime? {
        candidates.first
    }
}
