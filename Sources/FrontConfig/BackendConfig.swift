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

/// What happens to open sessions on an event (`on_server_down`, `on_failback`).
public enum SessionAction: String, Sendable, CaseIterable {
    case close, keep
}

/// `failback`.
public enum FailbackMode: String, Sendable, CaseIterable {
    case auto, manual
}

/// `rebalance`: when sessions are moved back to where the balancer would put them now.
public enum RebalanceMode: String, Sendable, CaseIterable {
    /// Only on `POST /backends/{b}/rebalance`.
    case manual
    /// Also when a server comes back up or a reload adds one, once its slow start ended.
    case auto
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
    /// Sessions moved per second, per backend, by every bulk move (evacuation, rebalancing, failback,
    /// maint, a removed server, shutdown); 0: all at once.
    public var moveRate: Int
    public var rebalance: RebalanceMode
    /// Sent to MQTT 5 clients with DISCONNECT 0x9C when their session is moved; nil: none.
    public var serverReference: String?
    public var servers: [ServerConfig]

    /// `move_rate` when not written.
    public static let defaultMoveRate = 500

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
        moveRate: Int = BackendConfig.defaultMoveRate,
        rebalance: RebalanceMode = .manual,
        serverReference: String? = nil,
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
        self.moveRate = moveRate
        self.rebalance = rebalance
        self.serverReference = serverReference
        self.servers = servers
    }
}
