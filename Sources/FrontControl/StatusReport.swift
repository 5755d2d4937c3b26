import Foundation
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
    /// A move under way (an addition to INTERFACE.md's document: present only while one runs).
    public struct Moving: Codable, Sendable, Equatable {
        /// Sessions still to move: waiting for their turn, or on their way.
        public var remaining: Int
        /// Sessions per second (0: all at once).
        public var rate: Int
        /// Why (`evacuate`, `rebalance`, `failback`, `maint`, `removed`, `shutdown`).
        public var cause: String
        /// Moves begun so far.
        public var moved: Int
        /// When it began (ISO 8601, UTC).
        public var started: String
        /// Seconds until the last waiting session's turn at the rate.
        public var eta_seconds: Double

        init(_ progress: SessionMover.Progress) {
            remaining = progress.remaining
            rate = progress.rate
            cause = progress.cause.rawValue
            moved = progress.moved
            started = progress.started.formatted(.iso8601)
            eta_seconds = (progress.etaSeconds * 10).rounded() / 10
        }
    }
    public struct Server: Codable, Sendable, Equatable {
        public var name: String
        public var address: String
        public var state: String
        public var backup: Bool
        public var active_connections: Int
        public var total_connections: Int
        /// `null` until a check has run (and always without checks).
        public var last_check: LastCheck?
        /// A move of this server's sessions under way (evacuate, maint, removed, rebalance by share).
        public var moving: Moving?

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(address, forKey: .address)
            try container.encode(state, forKey: .state)
            try container.encode(backup, forKey: .backup)
            try container.encode(active_connections, forKey: .active_connections)
            try container.encode(total_connections, forKey: .total_connections)
            try container.encode(last_check, forKey: .last_check)
            try container.encodeIfPresent(moving, forKey: .moving)
        }
    }
    public struct Backend: Codable, Sendable, Equatable {
        public var name: String
        /// `balance: first`: the server taking new sessions; `null` when none (or for other balances).
        public var active_server: String?
        public var servers: [Server]
        /// A move across the backend under way (rebalance by key, failback, shutdown).
        public var moving: Moving?
        /// Sessions waiting to move in all of the backend's moves (`brokerfront_sessions_waiting_to_move`).
        public var waiting_to_move: Int?

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(active_server, forKey: .active_server)
            try container.encode(servers, forKey: .servers)
            try container.encodeIfPresent(moving, forKey: .moving)
            try container.encodeIfPresent(waiting_to_move, forKey: .waiting_to_move)
        }
    }

    /// The relay threads (an addition to INTERFACE.md's document; absent in older fronts' reports).
    public struct Relay: Codable, Sendable, Equatable {
        /// Relay threads running (`relay_threads`; 0: every session stays on its channels).
        public var threads: Int
        /// Their time slice (`relay_slice`): `100us`, `kernel default`, or why the kernel's is kept (each
        /// thread's, `bf-relay-0: 100us; bf-relay-0+a: …`, when they differ);
        /// `null` without relay threads.
        public var slice: String?
        /// Sessions whose bytes they carry now (part of the listeners' `active_connections`).
        public var sessions: Int
        /// The same per relay thread (`sessions_per_thread`), in thread order; `relay_spread` evens them out.
        public var sessions_per_thread: [Int]?
        /// Sessions the assist threads (`relay_assist`) relayed since the start, one per session per shared
        /// batch; absent when off.
        public var assisted: Int?

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(threads, forKey: .threads)
            try container.encode(slice, forKey: .slice)
            try container.encode(sessions, forKey: .sessions)
            try container.encodeIfPresent(sessions_per_thread, forKey: .sessions_per_thread)
            try container.encodeIfPresent(assisted, forKey: .assisted)
        }
    }

    public var listeners: [Listener]
    public var backends: [Backend]
    public var relay: Relay?
    /// True once a shutdown closed the listeners and the sessions drain (an addition to
    /// INTERFACE.md's document; absent in older fronts' reports).
    public var draining: Bool?

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
        draining = proxy.isStopping
        let relay = proxy.relayStatus
        self.relay = Relay(
            threads: relay.threads, slice: relay.slice, sessions: relay.sessions, sessions_per_thread: relay.perThread,
            assisted: relay.assisted)
        let now = MonotonicTime.now()
        let mover = proxy.mover
        backends = proxy.routing.snapshot.backends.map { backend in
            Backend(
                name: backend.name,
                active_server: backend.activeServer(at: now)?.name,
                servers: backend.servers.map { server in
                    Server(server, moving: mover.progress(backend: backend.name, server: server.name))
                },
                moving: mover.progress(backend: backend.name, server: nil).map(Moving.init),
                waiting_to_move: mover.waiting(backend: backend.name))
        }
    }
}

extension StatusReport.Server {
    /// The status of one server now, with the move of its sessions under way, if any.
    public init(_ server: ServerRuntime, moving: SessionMover.Progress? = nil) {
        let health = server.healthState
        self.init(
            name: server.name, address: server.config.address.description, state: server.displayState,
            backup: server.config.backup, active_connections: server.activeConnections,
            total_connections: server.totalConnections,
            last_check: health.lastCheck.map {
                StatusReport.LastCheck(
                    ok: $0.ok, duration_ms: ($0.duration.secondsDouble * 1000 * 10).rounded() / 10, message: $0.message)
            }, moving: moving.map(StatusReport.Moving.init))
    }
}
