import FrontConfig

/// Everything the data path needs to route, built from one configuration and swapped whole on
/// reload. Immutable; the servers inside carry their own thread-safe live state.
public final class RoutingSnapshot: Sendable {
    public let configuration: FrontConfiguration
    public let backends: [BackendRuntime]
    private let backendsByName: [String: BackendRuntime]

    public init(configuration: FrontConfiguration) {
        self.configuration = configuration
        self.backends = configuration.backends.map(BackendRuntime.init(config:))
        self.backendsByName = Dictionary(backends.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The backend named `name`.
    public func backend(named name: String) -> BackendRuntime? {
        backendsByName[name]
    }
}
