/// What a listener speaks to its clients.
public enum ListenerProtocol: String, Sendable, CaseIterable {
    /// Sniff the MQTT CONNECT, route on it, then relay bytes.
    case mqtt
    /// Relay bytes without looking at them (Redis, anything TCP).
    case tcp
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
