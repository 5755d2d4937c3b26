import FrontConfig
import FrontCore
import MQTTWire
import ProxyProtocol

@testable import FrontSession

/// A session machine with a hand-driven clock, and what its actions say, in words.
struct SessionHarness {
    var machine: SessionMachine
    var now: MonotonicTime
    /// Every byte the client sent before the relay (what a driver keeps and feeds again).
    var pending: [UInt8] = []

    static let client = ProxyAddress(ip: "192.0.2.7", port: 40_000)
    static let destination = ProxyAddress(ip: "198.51.100.1", port: 1883)

    init(listener: ListenerConfig = SessionHarness.listener()) {
        now = MonotonicTime.now()
        machine = SessionMachine(settings: SessionSettings(listener: listener), acceptedAt: now)
    }

    static func listener(
        protocol: ListenerProtocol = .mqtt, proxy: Bool = false, idle: Duration = .seconds(600),
        connectTimeout: Duration = .seconds(5), maxConnectSize: Int = 1024
    ) -> ListenerConfig {
        ListenerConfig(
            name: "l", bind: Endpoint(host: "127.0.0.1", port: 1883), protocol: `protocol`, backend: "brokers",
            acceptProxyProtocol: proxy, idleTimeout: idle, connectTimeout: connectTimeout,
            maxConnectSize: maxConnectSize)
    }

    /// `b1` then `b2` (`balance: first`, no checks), `retries` as given.
    static func backend(retries: Int = 2, sendProxy: ProxyProtocolVersion = .none, servers: Int = 2)
        -> BackendRuntime
    {
        BackendRuntime(
            config: BackendConfig(
                name: "brokers", balance: .first, retries: retries, sendProxyProtocol: sendProxy,
                servers: (1...servers).map {
                    ServerConfig(name: "b\($0)", address: Endpoint(host: "127.0.0.1", port: 10_000 + $0))
                }))
    }

    static func connect(_ version: MQTTProtocolVersion = .v3_1_1, keepAlive: UInt16 = 60, id: String = "c1")
        -> [UInt8]
    {
        MQTTConnect(version: version, keepAlive: keepAlive, clientID: id).encode()
    }

    @discardableResult
    mutating func feed(_ event: SessionMachine.Event) -> [String] {
        Self.describe(machine.handle(event, at: now))
    }

    /// Bytes from the client: before the relay, added to what it sent so far, which is fed whole.
    @discardableResult
    mutating func client(_ bytes: [UInt8]) -> [String] {
        if machine.phase == .relaying {
            return bytes.withUnsafeBytes { feed(.clientBytes($0)) }
        }
        pending += bytes
        return pending.withUnsafeBytes { feed(.clientBytes($0)) }
    }

    @discardableResult
    mutating func server(_ bytes: [UInt8]) -> [String] {
        bytes.withUnsafeBytes { feed(.serverBytes($0)) }
    }

    @discardableResult
    mutating func opened(connected: Bool = true) -> [String] {
        pending.withUnsafeBytes { feed(.dialOpened(connected: connected, sent: $0)) }
    }

    @discardableResult
    mutating func route(_ backend: BackendRuntime?) -> [String] {
        feed(
            .routed(
                SessionRoute(
                    backend: backend, client: Self.client, destination: Self.destination, certificateCN: nil)))
    }

    /// Accepted, identified and sent a whole CONNECT, admitted and routed: dialing the first server.
    mutating func dialing(_ backend: BackendRuntime, connect: [UInt8] = SessionHarness.connect()) {
        feed(.admission(.admitted))
        client(connect)
        feed(.admission(.admitted))
        route(backend)
    }

    mutating func advance(_ duration: Duration) {
        now = now.adding(duration)
    }

    /// How long from now until `time`.
    func until(_ time: MonotonicTime?) -> Duration? {
        time.map { $0.since(now) }
    }

    /// The last `.dial` order of `actions`.
    static func order(_ actions: SessionMachine.Actions) -> DialOrder? {
        var found: DialOrder?
        for case .dial(let order) in actions { found = order }
        return found
    }

    static func describe(_ actions: SessionMachine.Actions) -> [String] {
        actions.map { action in
            switch action {
            case .arm(let time): time == nil ? "disarm" : "arm"
            case .admit: "admit"
            case .sniffPending: "sniff"
            case .route: "route"
            case .dial(let order):
                order.afterPortCollision ? "dial \(order.server.name) again" : "dial \(order.server.name)"
            case .dialFailed(let server, let failure, let counts):
                "\(counts ? "report" : "ignore") \(server.name) \(failure)"
            case .invalidConnect: "invalid"
            case .serverLost: "server lost"
            case .dropServer: "drop server"
            case .refuse(let reason, let reply):
                (["refuse", reason.rawValue] + reply.map { String($0, radix: 16) }).joined(separator: " ")
            case .shutdownOutput(let side): "shutdown \(side)"
            case .close(let reason): "close \(reason.rawValue)"
            case .abortDial: "abort dial"
            }
        }
    }
}
