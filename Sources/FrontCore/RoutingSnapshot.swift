import FrontConfig

/// Everything the data path needs to route, built from one configuration and swapped whole on
/// reload. Immutable; the servers inside carry their own thread-safe live state.
public final class RoutingSnapshot: Sendable {
    public let configuration: FrontConfiguration
    public let backends: [BackendRuntime]
    private let backendsByName: [String: BackendRuntime]

    /// A snapshot of `configuration`; `previous` (the snapshot it replaces on reload) lends its
    /// servers' live state and backends' failover decisions to those that keep their names.
    public init(configuration: FrontConfiguration, previous: RoutingSnapshot? = nil) {
        self.configuration = configuration
        self.backends = configuration.backends.map {
            BackendRuntime(config: $0, previous: previous?.backend(named: $0.name))
        }
        self.backendsByName = Dictionary(backends.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The backend named `name`.
    public func backend(named name: String) -> BackendRuntime? {
        backendsByName[name]
    }
}
