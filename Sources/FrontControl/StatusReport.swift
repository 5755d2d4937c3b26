import FrontConfig
import FrontCore
import FrontProxy

/// The `GET /status` document (INTERFACE.md, "Admin HTTP"), built from the live routing state.
public struct StatusReport: Codable, Sendable, Equatable {
    public struct Listener: Codable, Sendable, Equatable {
        public var name: String
        public var bind: String
        public var `protocol`: String
        public var active_connections: Int
    }
    public struct LastCheck: Codable, Sendable, Equatable {
        public var ok: Bool
        public var duration_ms: Double
        public var message: String
    }
    public struct Server: Codable, Sendable, Equatable {
        public var name: String
        public var address: String
        public var state: String
        public var backup: Bool
        public var active_connections: Int
        public var total_connections: Int
        public var last_check: LastCheck?
    }
    public struct Backend: Codable, Sendable, Equatable {
        public var name: String
        public var active_server: String?
        public var servers: [Server]
    }

    public var listeners: [Listener]
    public var backends: [Backend]

    /// The status of `proxy` now.
    public init(proxy: FrontProxy) {
        let bindings = proxy.boundListeners
        listeners = proxy.configuration.listeners.map { config in
            let bound = bindings.first { $0.name == config.name }
            let bind = bound.map { Endpoint(host: $0.address, port: $0.port).description } ?? config.bind.description
            return Listener(
                name: config.name, bind: bind, protocol: config.protocol.rawValue,
                active_connections: proxy.activeSessions(listener: config.name))
        }
        let now = MonotonicTime.now()
        backends = proxy.routing.snapshot.backends.map { backend in
            Backend(
                name: backend.name,
                active_server: backend.activeServer(at: now)?.name,
                servers: backend.servers.map { server in
                    Server(
                        name: server.name, address: server.config.address.description, state: server.displayState,
                        backup: server.config.backup, active_connections: server.activeConnections,
                        total_connections: server.totalConnections, last_check: nil)
                })
        }
    }
}
