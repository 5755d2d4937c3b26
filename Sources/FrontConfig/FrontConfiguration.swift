/// The whole validated configuration of one brokerfront process.
///
/// Produced by ``ConfigLoader`` from YAML; every field carries its default already applied, so the
/// data path never has to know what was written and what was defaulted. Immutable and `Sendable`:
/// a reload builds a new value and swaps it whole.
public struct FrontConfiguration: Sendable, Equatable {
    /// The optional HTTP admin plane (status, metrics).
    public var admin: AdminConfig?
    /// Log level and format.
    public var log: LogConfig
    /// How long open sessions may run after SIGTERM/SIGINT before they are closed.
    public var drainTimeout: Duration
    /// Process-wide cap on client connections; above it accepting pauses.
    public var maxConnections: Int
    /// Threads that relay established plain-TCP sessions on their own epoll loop, off the SwiftNIO
    /// channels (`relay_threads`); nil: auto (``relayThreadCount(eventLoops:)``); 0: every session
    /// stays on its channels. Read at start only.
    public var relayThreads: Int?
    /// The scheduler time slice each relay thread asks for (`relay_slice`); zero leaves the kernel's
    /// default. A relay thread sleeps most of the time and, once woken, has a few microseconds of work;
    /// with a short slice it runs before the task that woke it finishes its own slice (EEVDF on
    /// Linux >= 6.12 puts the earlier virtual deadline first), which cuts the relay's added latency
    /// under load (docs/benchmarks.md, S3). Read at start only.
    public var relaySlice: Duration
    /// With two or more relay threads, every new session starts on the first one, and those that
    /// last this long move to the relay thread with the fewest sessions (`relay_spread`): connect
    /// storms stay on one thread (fewer wake-ups and cross-thread hops per connect), long-lived
    /// sessions' traffic is shared. Zero: each relay thread keeps the sessions of its own event
    /// loops. Read at start only.
    public var relaySpread: Duration
    /// Whether each relay thread has an assist thread that relays part of a large batch of ready
    /// sessions beside it (`relay_assist`): a burst of messages is not queued behind one thread,
    /// while a busy thread keeps batching. nil: auto (``relayAssistOn(cpus:eventLoops:)``). Read at
    /// start only.
    public var relayAssist: Bool?
    /// Whether sessions of plain-TCP listeners dial their server from a plain socket and move to a
    /// relay thread as soon as the CONNECT is routed (`relay_connect`), instead of building a second
    /// SwiftNIO channel for the server and moving after 1 s. Needs relay threads and servers
    /// addressed by IP. Read at start only.
    public var relayConnect: Bool
    /// Whether plain-TCP listeners (no TLS, no `accept_proxy_protocol`) accept on the relay threads'
    /// own sockets and read the CONNECT there (`relay_accept`), so a session never builds a SwiftNIO
    /// channel at all. Needs `relay_connect`. Read at start only.
    public var relayAccept: Bool
    /// The listening sockets, in file order.
    public var listeners: [ListenerConfig]
    /// The server groups listeners send sessions to, in file order.
    public var backends: [BackendConfig]
    /// Whether the front reloads by itself when the configuration file or a TLS file it names
    /// changes (`watch`), as a Kubernetes ConfigMap or cert-manager Secret is updated.
    public var watch: Bool = false

    /// `relay_slice` when not written: the shortest slice Linux grants (100 µs).
    public static let defaultRelaySlice = Duration.microseconds(100)
    /// The slices Linux grants (it clamps anything else into this range); zero means "kernel default".
    public static let relaySliceRange = Duration.microseconds(100)...Duration.milliseconds(100)

    /// How many relay threads run beside `eventLoops` event loops: the configured count, or for
    /// `auto` one per two event loops (at least one). A relay thread's work is `recv` and `send`; one
    /// that stays busy finds several sockets ready per wake and moves several messages per call, so
    /// fewer, fuller threads cost less per message than one per core (docs/benchmarks.md, S3).
    public func relayThreadCount(eventLoops: Int) -> Int {
        relayThreads ?? max(1, eventLoops / 2)
    }

    /// Whether the relay threads get assist threads: as configured, or for `auto` when the front
    /// may run on at least two CPUs per relay thread (one to spare for each assist thread).
    public func relayAssistOn(cpus: Int, eventLoops: Int) -> Bool {
        relayAssist ?? (cpus >= 2 * relayThreadCount(eventLoops: eventLoops))
    }

    public init(
        admin: AdminConfig? = nil,
        log: LogConfig = LogConfig(),
        drainTimeout: Duration = .seconds(30),
        maxConnections: Int = 100_000,
        relayThreads: Int? = nil,
        relaySlice: Duration = FrontConfiguration.defaultRelaySlice,
        relaySpread: Duration = .zero,
        relayAssist: Bool? = nil,
        relayConnect: Bool = true,
        relayAccept: Bool = true,
        listeners: [ListenerConfig] = [],
        backends: [BackendConfig] = []
    ) {
        self.admin = admin
        self.log = log
        self.drainTimeout = drainTimeout
        self.maxConnections = maxConnections
        self.relayThreads = relayThreads
        self.relaySlice = relaySlice
        self.relaySpread = relaySpread
        self.relayAssist = relayAssist
        self.relayConnect = relayConnect
        self.relayAccept = relayAccept
        self.listeners = listeners
        self.backends = backends
    }

    /// The backend a listener names; validation guarantees it exists for a loaded configuration.
    public func backend(named name: String) -> BackendConfig? {
        backends.first { $0.name == name }
    }
}

/// An `ip:port` or `host:port` pair as written in the config (`127.0.0.1:1883`, `[::1]:1883`, `broker-1:1883`).
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets: an IPv4/IPv6 literal or a DNS name.
    public var host: String
    /// TCP port, 0...65535 (0 only for binds: "any free port").
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with brackets around IPv6 literals.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// `admin:` — the HTTP admin plane.
public struct AdminConfig: Sendable, Equatable {
    /// `admin.bind` when not written: loopback, port 8404.
    public static let defaultBind = Endpoint(host: "127.0.0.1", port: 8404)
    /// Where the admin plane listens.
    public var bind: Endpoint
    /// When set, state-changing requests and `GET /sessions` need `Authorization: Bearer <token>`; the
    /// value itself, whichever of `token`, `token_file` or `token_env` gave it.
    public var token: String?
    /// Where ``token`` came from (nil when there is none).
    public var tokenSource: AdminTokenSource?
    /// `hosts`: DNS names accepted in the `Host` of mutations and `GET /sessions`, lower-cased, beside
    /// IP literals and `localhost`.
    public var hosts: [String]

    public init(bind: Endpoint, token: String? = nil, tokenSource: AdminTokenSource? = nil, hosts: [String] = []) {
        self.bind = bind
        self.token = token
        self.tokenSource = tokenSource ?? token.map { _ in .inline }
        self.hosts = hosts
    }
}

/// `log:` — level and line format.
public struct LogConfig: Sendable, Equatable {
    public enum Level: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }
    public var level: Level
    public var format: Format

    public init(level: Level = .info, format: Format = .text) {
        self.level = level
        self.format = format
    }
}

/// What a listener speaks to its clients.
public enum ListenerProtocol: String, Sendable, CaseIterable {
    /// Sniff the MQTT CONNECT, route on it, then relay bytes.
    case mqtt
    /// Relay bytes without looking at them (Redis, anything TCP).
    case tcp
}

/// `listeners[i].tls` — TLS termination (behaviour arrives with the edge issue; validated now).
public struct TLSConfig: Sendable, Equatable {
    public var certificate: String
    public var privateKey: String
    public var clientCA: String?

    public init(certificate: String, privateKey: String, clientCA: String? = nil) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.clientCA = clientCA
    }
}

/// `listeners[i].limits`.
public struct LimitsConfig: Sendable, Equatable {
    /// Max concurrent connections from one client IP, 0 = none.
    public var perSourceIP: Int
    /// New sessions per second admitted, 0 = none.
    public var acceptRate: Int
    /// Bytes all the listener's connections whose CONNECT has not arrived whole may hold together
    /// (`max_pending_connect_bytes`); a connection whose next bytes would go past it is closed
    /// (reason `limit`).
    public var maxPendingConnectBytes: Int

    /// `max_pending_connect_bytes` when not written: 64 MiB, a thousand full-size (64 KiB) CONNECTs
    /// at once or tens of thousands of usual ones, whatever `max_connections` says.
    public static let defaultMaxPendingConnectBytes = 64 << 20

    public init(
        perSourceIP: Int = 0, acceptRate: Int = 0,
        maxPendingConnectBytes: Int = LimitsConfig.defaultMaxPendingConnectBytes
    ) {
        self.perSourceIP = perSourceIP
        self.acceptRate = acceptRate
        self.maxPendingConnectBytes = maxPendingConnectBytes
    }
}

/// `listeners[i].client_ids` — glob filters on the CONNECT client identifier.
public struct ClientIDFilter: Sendable, Equatable {
    public var allow: [String]
    public var deny: [String]

    public init(allow: [String] = ["*"], deny: [String] = []) {
        self.allow = allow
        self.deny = deny
    }
}

/// `listeners[i]`.
public struct ListenerConfig: Sendable, Equatable {
    public var name: String
    public var bind: Endpoint
    public var `protocol`: ListenerProtocol
    public var backend: String
    public var reusePort: Bool
    /// 0 = only the global cap.
    public var maxConnections: Int
    public var acceptProxyProtocol: Bool
    /// `accept_proxy_protocol: {trusted: [...]}`: the networks allowed to send a PROXY header; a
    /// connection from anywhere else is closed (reason `proxy_protocol`). Empty: any sender.
    public var trustedProxies: [IPNetwork]
    public var tls: TLSConfig?
    /// tcp: no bytes either way for this long closes; mqtt: used when keepalive = 0. Zero = never.
    public var idleTimeout: Duration
    /// TLS handshake, PROXY header and a complete CONNECT must all arrive within this.
    public var connectTimeout: Duration
    /// Largest CONNECT accepted, in bytes.
    public var maxConnectSize: Int
    public var keepaliveFactor: Double
    public var keepaliveMin: Duration
    public var keepaliveMax: Duration
    public var limits: LimitsConfig
    public var clientIDs: ClientIDFilter

    public init(
        name: String,
        bind: Endpoint,
        protocol: ListenerProtocol = .mqtt,
        backend: String,
        reusePort: Bool = false,
        maxConnections: Int = 0,
        acceptProxyProtocol: Bool = false,
        tls: TLSConfig? = nil,
        idleTimeout: Duration = .seconds(600),
        connectTimeout: Duration = .seconds(5),
        maxConnectSize: Int = 65_536,
        keepaliveFactor: Double = 1.5,
        keepaliveMin: Duration = .seconds(10),
        keepaliveMax: Duration = .seconds(7_200),
        limits: LimitsConfig = LimitsConfig(),
        clientIDs: ClientIDFilter = ClientIDFilter(),
        trustedProxies: [IPNetwork] = []
    ) {
        self.name = name
        self.bind = bind
        self.protocol = `protocol`
        self.backend = backend
        self.reusePort = reusePort
        self.maxConnections = maxConnections
        self.acceptProxyProtocol = acceptProxyProtocol
        self.tls = tls
        self.idleTimeout = idleTimeout
        self.connectTimeout = connectTimeout
        self.maxConnectSize = maxConnectSize
        self.keepaliveFactor = keepaliveFactor
        self.keepaliveMin = keepaliveMin
        self.keepaliveMax = keepaliveMax
        self.limits = limits
        self.clientIDs = clientIDs
        self.trustedProxies = trustedProxies
    }

    /// Whether `ip` may send this listener a PROXY header (`accept_proxy_protocol.trusted`).
    public func trustsProxy(_ ip: String) -> Bool {
        trustedProxies.isEmpty || trustedProxies.contains { $0.contains(ip) }
    }
}

/// How a backend picks a server for a new session.
public enum BalanceAlgorithm: String, Sendable, CaseIterable {
    case clientID = "client-id"
    case username
    case sourceIP = "source-ip"
    case roundRobin = "round-robin"
    case leastConnections = "least-connections"
    case first

    /// Whether the algorithm needs a parsed MQTT CONNECT (and so an `mqtt` listener).
    public var needsMQTT: Bool { self == .clientID || self == .username }
}

/// `send_proxy_protocol`.
public enum ProxyProtocolVersion: String, Sendable, CaseIterable {
    case none, v1, v2
}

/// What happens to open sessions on an event (`on_server_down`, `on_failback`).
public enum SessionAction: String, Sendable, CaseIterable {
    case close, keep
}

/// `failback`.
public enum FailbackMode: String, Sendable, CaseIterable {
    case auto, manual
}

/// `backends[i].health_check.type`.
public enum HealthCheckType: String, Sendable, CaseIterable {
    case tcp
    case mqtt
    case redisMaster = "redis-master"
    case sendExpect = "send-expect"
}

/// `backends[i].health_check`.
public struct HealthCheckConfig: Sendable, Equatable {
    public var type: HealthCheckType
    public var interval: Duration
    public var timeout: Duration
    public var rise: Int
    public var fall: Int
    /// send-expect only: bytes to send, escapes (`\r`, `\n`, `\xNN`) already decoded.
    public var send: [UInt8]?
    /// send-expect only: substring the answer must contain.
    public var expect: String?
    /// mqtt / redis-master.
    public var username: String?
    public var password: String?

    public init(
        type: HealthCheckType,
        interval: Duration = .seconds(2),
        timeout: Duration = .seconds(1),
        rise: Int = 2,
        fall: Int = 3,
        send: [UInt8]? = nil,
        expect: String? = nil,
        username: String? = nil,
        password: String? = nil
    ) {
        self.type = type
        self.interval = interval
        self.timeout = timeout
        self.rise = rise
        self.fall = fall
        self.send = send
        self.expect = expect
        self.username = username
        self.password = password
    }
}

/// `backends[i].servers[j]`.
public struct ServerConfig: Sendable, Equatable {
    public var name: String
    public var address: Endpoint
    public var weight: Int
    /// 0 = no cap.
    public var maxConnections: Int
    public var backup: Bool
    /// Overrides the backend's `source_ips` when not empty.
    public var sourceIPs: [String]

    public init(
        name: String,
        address: Endpoint,
        weight: Int = 1,
        maxConnections: Int = 0,
        backup: Bool = false,
        sourceIPs: [String] = []
    ) {
        self.name = name
        self.address = address
        self.weight = weight
        self.maxConnections = maxConnections
        self.backup = backup
        self.sourceIPs = sourceIPs
    }
}

/// `backends[i]`.
public struct BackendConfig: Sendable, Equatable {
    public var name: String
    public var balance: BalanceAlgorithm
    /// Outbound connections are spread over these (IP literals).
    public var sourceIPs: [String]
    /// When set, the front picks each outbound connection's source port itself from this range
    /// (per source IP and server) instead of leaving it to the kernel's ephemeral range.
    public var sourcePorts: SourcePortRange?
    public var connectTimeout: Duration
    /// On a failed dial, how many further servers to try.
    public var retries: Int
    public var slowStart: Duration
    public var sendProxyProtocol: ProxyProtocolVersion
    public var healthCheck: HealthCheckConfig?
    public var onServerDown: SessionAction
    public var failback: FailbackMode
    public var onFailback: SessionAction
    public var servers: [ServerConfig]

    public init(
        name: String,
        balance: BalanceAlgorithm = .clientID,
        sourceIPs: [String] = [],
        sourcePorts: SourcePortRange? = nil,
        connectTimeout: Duration = .seconds(2),
        retries: Int = 2,
        slowStart: Duration = .zero,
        sendProxyProtocol: ProxyProtocolVersion = .none,
        healthCheck: HealthCheckConfig? = nil,
        onServerDown: SessionAction = .close,
        failback: FailbackMode = .auto,
        onFailback: SessionAction = .close,
        servers: [ServerConfig] = []
    ) {
        self.name = name
        self.balance = balance
        self.sourceIPs = sourceIPs
        self.sourcePorts = sourcePorts
        self.connectTimeout = connectTimeout
        self.retries = retries
        self.slowStart = slowStart
        self.sendProxyProtocol = sendProxyProtocol
        self.healthCheck = healthCheck
        self.onServerDown = onServerDown
        self.failback = failback
        self.onFailback = onFailback
        self.servers = servers
    }
}

/// `source_ports: LOW-HIGH`: the ports the front binds outbound connections to itself.
public struct SourcePortRange: Sendable, Equatable, CustomStringConvertible {
    public var lower: Int
    public var upper: Int

    public init(lower: Int, upper: Int) {
        self.lower = lower
        self.upper = upper
    }

    public var count: Int { upper - lower + 1 }
    public var description: String { "\(lower)-\(upper)" }

    /// Parses `LOW-HIGH` (1 ≤ LOW ≤ HIGH ≤ 65535).
    public static func parse(_ text: String) throws(ConfigValueError) -> SourcePortRange {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let lower = Int(parts[0].filter { $0 != " " }),
            let upper = Int(parts[1].filter { $0 != " " })
        else { throw ConfigValueError("`\(text)` is not a port range; use LOW-HIGH, e.g. 1024-65535") }
        guard (1...65_535).contains(lower), (1...65_535).contains(upper) else {
            throw ConfigValueError("`\(text)`: ports must be within 1...65535")
        }
        guard lower <= upper else { throw ConfigValueError("`\(text)`: the low port is above the high one") }
        return SourcePortRange(lower: lower, upper: upper)
    }

    /// The ports this range shares with the kernel's ephemeral range (`ip_local_port_range`), nil when
    /// none. Such ports hurt the whole host: the front holds them bound (SO_REUSEADDR), and the
    /// kernel's connect() search skips every port a bind() holds, whatever the address — so each one
    /// is lost to every other outgoing connection on the host (health checks, kernel-chosen dials,
    /// other programs), and connect() slows down scanning past them as they fill the range.
    public func overlap(withEphemeral ephemeral: ClosedRange<Int>) -> ClosedRange<Int>? {
        let low = max(lower, ephemeral.lowerBound)
        let high = min(upper, ephemeral.upperBound)
        return low <= high ? low...high : nil
    }

    /// The widest range of unprivileged ports outside `ephemeral`: below it (from 1024) or above it.
    /// Nil when the ephemeral range leaves fewer than two such ports.
    public static func outside(ephemeral: ClosedRange<Int>) -> SourcePortRange? {
        var candidates: [SourcePortRange] = []
        if ephemeral.lowerBound > 1025 {
            candidates.append(SourcePortRange(lower: 1024, upper: ephemeral.lowerBound - 1))
        }
        if ephemeral.upperBound < 65_534 {
            candidates.append(SourcePortRange(lower: max(1024, ephemeral.upperBound + 1), upper: 65_535))
        }
        return candidates.max { $0.count < $1.count }
    }
}
