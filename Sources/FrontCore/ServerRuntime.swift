import FrontConfig
import Synchronization

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// One configured server and its live state, shared by every event loop.
///
/// Counters are atomics and the health state sits behind a mutex: both are touched once per
/// session start/end, never per byte. Thread-safe; lives as long as the routing snapshot holding it.
public final class ServerRuntime: Sendable {
    /// The backend this server belongs to (for logs and metric labels).
    public let backendName: String
    /// Its configuration as loaded.
    public let config: ServerConfig
    /// Position in the backend's server list (list order matters for `balance: first`).
    public let index: Int
    /// Source IPs outbound connections are bound to: the server's own list, else the backend's.
    public let sourceIPs: [String]
    /// The backend's `source_ports`: when set, the front picks source ports itself.
    public let sourcePorts: SourcePortRange?
    /// Stable hash of the server name: its identity in consistent hashing, the same in every process.
    public let hashSeed: UInt64
    /// When a reload added this server (it ramps up like a server that came back).
    public let addedAt: MonotonicTime?

    /// Counters and health, shared with the runtime of the same server in the next snapshot after
    /// a reload, so sessions opened before it are still counted and health is not reset.
    let live: ServerLiveState
    /// The runtime of this server in the snapshot that replaced this one with a health state of its
    /// own (a reload changed the check): sessions routed before the reload report dials there.
    private let successor = NIOLockedValueBox<ServerRuntime?>(nil)

    /// A server runtime; `previous` is the same server (backend and name) in the snapshot being
    /// replaced, whose counters and health carry over. When its check settings changed, the health
    /// is a copy that keeps the last known state until the new check's first result.
    public init(
        backendName: String, config: ServerConfig, index: Int, backendSourceIPs: [String],
        sourcePorts: SourcePortRange? = nil, check: HealthCheckConfig? = nil, previous: ServerRuntime? = nil,
        addedAt: MonotonicTime? = nil
    ) {
        self.addedAt = addedAt ?? previous?.addedAt
        self.backendName = backendName
        self.config = config
        self.index = index
        self.sourceIPs = config.sourceIPs.isEmpty ? backendSourceIPs : config.sourceIPs
        self.sourcePorts = sourcePorts
        self.hashSeed = StableHash.mix(StableHash.of(config.name))
        if let previous, previous.live.check == check {
            self.live = previous.live
        } else if let previous {
            let carried = ServerHealthState(
                carrying: previous.healthState, thresholds: check.map { ($0.rise, $0.fall) }, at: .now())
            self.live = ServerLiveState(check: check, counters: previous.live.counters, health: carried)
            previous.successor.withLockedValue { $0 = self }
        } else {
            self.live = ServerLiveState(check: check)
        }
    }

    public var name: String { config.name }

    /// This server's runtime whose health is in force: itself, or the one a reload that changed its
    /// check put in its place (dial outcomes of sessions routed before the reload go there).
    public var latest: ServerRuntime {
        var runtime = self
        while let next = runtime.successor.withLockedValue({ $0 }) { runtime = next }
        return runtime
    }

    /// The weight new sessions see at `now`: the configured weight, scaled down linearly while the
    /// server is within `slowStart` of coming up or being added.
    public func effectiveWeight(slowStart: Duration, at now: MonotonicTime) -> Double {
        guard slowStart > .zero else { return Double(max(config.weight, 0)) }
        let since = [healthState.upSince, addedAt].compactMap { $0 }.max()
        return SlowStart.effectiveWeight(config.weight, upSince: since, window: slowStart, now: now)
    }

    /// Whether `other` is this server, possibly from another snapshot generation (reloads create new
    /// runtimes for the same backend and name; sessions keep the one they started with).
    public func isSameServer(as other: ServerRuntime) -> Bool {
        self === other || (backendName == other.backendName && name == other.name)
    }

    /// Sessions currently relayed to this server.
    public var activeConnections: Int { live.counters.active.load(ordering: .relaxed) }

    /// Sessions ever relayed to this server.
    public var totalConnections: Int { live.counters.total.load(ordering: .relaxed) }

    /// A snapshot of the health state machine.
    public var healthState: ServerHealthState { live.health.withLockedValue { $0 } }

    /// Whether this server may take a new session at `now`: healthy (or due a trial), admin-ready,
    /// and under its `max_connections`.
    public func acceptsNewSessions(at now: MonotonicTime) -> Bool {
        if config.maxConnections > 0 && activeConnections >= config.maxConnections { return false }
        return live.health.withLockedValue { $0.acceptsNewSessions(at: now) }
    }

    /// The next source IP to bind an outbound connection to, rotating; nil when none is configured.
    public func nextSourceIP() -> String? {
        guard !sourceIPs.isEmpty else { return nil }
        let turn = live.counters.sourceCursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return sourceIPs[Int(UInt(bitPattern: turn) % UInt(sourceIPs.count))]
    }

    /// Takes the next source IP for an upstream connection to this server and counts it as in use
    /// (one port of that IP toward this destination); returns the IP, how many are in use now, and
    /// with `source_ports` the port to bind (nil: the kernel picks). Nil when no source IP is
    /// configured, or when every port of every source IP's pool is taken. Pair with
    /// ``releaseSource(_:port:)``.
    public func acquireSource() -> (ip: String, inUse: Int, port: Int?)? {
        guard !sourceIPs.isEmpty else { return nil }
        var port: Int?
        var chosen: String?
        for _ in 0..<sourceIPs.count {
            guard let ip = nextSourceIP() else { return nil }
            if let range = sourcePorts {
                guard let taken = portPool(for: ip, range: range).acquire() else { continue }
                port = taken
            }
            chosen = ip
            break
        }
        guard let ip = chosen else { return nil }
        let inUse = live.counters.sourceInUse.withLockedValue { counts in
            counts[ip, default: 0] += 1
            return counts[ip, default: 0]
        }
        return (ip, inUse, port)
    }

    /// An upstream connection from `ip` (and `port`, when the front picked it) ended or its dial failed.
    /// `collided`: the port turned out to be taken by another socket outside this pool.
    public func releaseSource(_ ip: String, port: Int? = nil, collided: Bool = false) {
        live.counters.sourceInUse.withLockedValue { counts in
            guard let count = counts[ip] else { return }
            counts[ip] = count > 1 ? count - 1 : nil
        }
        if let port, let range = sourcePorts {
            let pool = portPool(for: ip, range: range)
            if collided { pool.collided(port) } else { pool.release(port) }
        }
    }

    /// The port pool of `ip` toward this server (made on first use; kept across reloads with the
    /// counters, and made anew when the range changes).
    func portPool(for ip: String, range: SourcePortRange) -> SourcePortPool {
        live.counters.portPools.withLockedValue { pools in
            if let pool = pools[ip], pool.lower == range.lower, pool.upper == range.upper { return pool }
            let pool = SourcePortPool(lower: range.lower, upper: range.upper)
            pools[ip] = pool
            return pool
        }
    }

    /// A session to this server began relaying.
    public func sessionOpened() {
        live.counters.active.wrappingAdd(1, ordering: .relaxed)
        live.counters.total.wrappingAdd(1, ordering: .relaxed)
    }

    /// A session to this server ended.
    public func sessionClosed() {
        live.counters.active.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Records a failed dial (begun at `begunAt`, when known) on the health in force (``latest``);
    /// returns the transition when it flipped the server down.
    public func dialFailed(
        at now: MonotonicTime, definitive: Bool = true, begunAt: MonotonicTime? = nil
    ) -> HealthTransition? {
        latest.live.health.withLockedValue { $0.dialFailed(at: now, definitive: definitive, begunAt: begunAt) }
    }

    /// Records a successful dial; returns the transition when it brought the server back up.
    public func dialSucceeded() -> HealthTransition? {
        latest.live.health.withLockedValue { $0.dialSucceeded() }
    }

    /// Records a completed active check (at `now`); returns the transition when rise/fall flipped the server.
    public func checkCompleted(_ result: CheckResult, at now: MonotonicTime = .now()) -> HealthTransition? {
        live.health.withLockedValue { $0.checkCompleted(result, at: now) }
    }

    /// Sets the operator state (drain/maint/ready).
    public func setAdminState(_ state: AdminState) {
        live.health.withLockedValue { $0.admin = state }
    }

    /// Up and admin-ready: what failover decisions count as usable.
    public var isUsable: Bool { live.health.withLockedValue { $0.isUsable } }

    /// The state word the admin API shows: `maint`/`drain` when an operator set it, else `up`/`down`.
    public var displayState: String {
        let state = healthState
        switch state.admin {
        case .maint: return "maint"
        case .drain: return "drain"
        case .ready: return state.operational.rawValue
        }
    }
}

/// The mutable part of a server: its counters and its health state machine. A class so that
/// consecutive snapshots can share it; when the check settings change the health is copied into a
/// new one (the old checks' last results no longer apply to it), counters never are (sessions
/// opened before a reload still end on them). Thread-safe.
final class ServerLiveState: Sendable {
    let check: HealthCheckConfig?
    let counters: ServerCounters
    let health: NIOLockedValueBox<ServerHealthState>

    init(check: HealthCheckConfig?, counters: ServerCounters = ServerCounters(), health: ServerHealthState? = nil) {
        self.check = check
        self.counters = counters
        self.health = NIOLockedValueBox(
            health ?? check.map { ServerHealthState(rise: $0.rise, fall: $0.fall) } ?? ServerHealthState())
    }
}

/// Session counters and the source-IP cursor of one server. Thread-safe.
final class ServerCounters: Sendable {
    let active = Atomic<Int>(0)
    let total = Atomic<Int>(0)
    let sourceCursor = Atomic<Int>(0)
    /// Upstream connections open (or being dialed) per source IP, to this server.
    let sourceInUse = NIOLockedValueBox<[String: Int]>([:])
    /// With `source_ports`: the ports each source IP uses toward this server.
    let portPools = NIOLockedValueBox<[String: SourcePortPool]>([:])
}
