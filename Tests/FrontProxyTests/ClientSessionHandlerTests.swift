import FrontConfig
import FrontCore
import Logging
import MQTTWire
import NIOCore
import NIOEmbedded
import Prometheus
import Testing

@testable import FrontProxy

/// One client channel on an EmbeddedEventLoop with a ClientSessionHandler, and the metrics it writes.
/// A tick counter the test moves by hand.
private final class ManualTicks: @unchecked Sendable {
    // Only touched on the test's thread (EmbeddedEventLoop runs everything inline).
    var now: Int64 = 0
}

private struct Harness {
    let loop = EmbeddedEventLoop()
    let ticks = ManualTicks()
    let state: LoopState
    let registry = PrometheusCollectorRegistry()
    let channel: EmbeddedChannel
    let routing: RoutingState

    init(listener: ListenerConfig = Harness.listenerConfig(), servers: [ServerConfig] = Harness.deadServers) {
        let ticks = self.ticks
        state = LoopState(eventLoop: loop) { ticks.now }
        let configuration = FrontConfiguration(
            listeners: [listener], backends: [BackendConfig(name: "brokers", retries: 0, servers: servers)])
        let factory = PrometheusMetricsFactory(registry: registry)
        routing = RoutingState(snapshot: RoutingSnapshot(configuration: configuration), factory: factory)
        let events = ServerEvents(
            routing: routing, owners: SessionOwners(loops: LoopStates(group: loop)), factory: factory,
            logger: Logger(label: "test"))
        let runtime = ListenerRuntime(
            config: listener, routing: routing, events: events, factory: factory, logger: Logger(label: "test"))
        channel = EmbeddedChannel(handler: ClientSessionHandler(listener: runtime, loop: state), loop: loop)
    }

    static func listenerConfig() -> ListenerConfig {
        ListenerConfig(
            name: "mqtt", bind: Endpoint(host: "127.0.0.1", port: 0), backend: "brokers",
            connectTimeout: .seconds(1), maxConnectSize: 256)
    }

    static let deadServers = [ServerConfig(name: "b1", address: Endpoint(host: "127.0.0.1", port: 1))]

    /// Ends the channel and the loop, so nothing of the test outlives it (LeakSanitizer runs).
    func tearDown() {
        _ = try? channel.finish(acceptAlreadyClosed: true)
        try? loop.syncShutdownGracefully()
    }

    func connect() throws {
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
    }

    func send(_ bytes: [UInt8]) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
    }

    func outbound() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
        }
        return bytes
    }

    func metric(_ line: String) -> Bool {
        registry.emitToString().split(separator: "\n").contains { $0 == line }
    }

    /// Marks every server down (as after failed dials), so routing finds none.
    func markAllServersDown() {
        for backend in routing.snapshot.backends {
            for server in backend.servers { _ = server.dialFailed(at: .now()) }
        }
    }
}

@Suite("ClientSessionHandler on an EmbeddedChannel")
struct ClientSessionHandlerTests {
    @Test("a first packet that is not a CONNECT is closed and counted as malformed_connect")
    func notConnect() throws {
        let h = Harness()
        defer { h.tearDown() }
        try h.connect()
        try h.send(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(!h.channel.isActive)
        #expect(try h.outbound().isEmpty)
        #expect(h.metric("brokerfront_connections_rejected_total{listener=\"mqtt\",reason=\"malformed_connect\"} 1"))
        #expect(h.metric("brokerfront_connections_active{listener=\"mqtt\"} 0.0"))
        #expect(h.state.sessionCount == 0)
        #expect(h.state.wheel.count == 0)
    }

    @Test("a CONNECT larger than max_connect_size is closed as soon as its header says so")
    func oversized() throws {
        let h = Harness()
        defer { h.tearDown() }
        try h.connect()
        let big = MQTTConnect(version: .v3_1_1, clientID: String(repeating: "x", count: 400)).encode()
        try h.send(Array(big.prefix(3)))
        #expect(!h.channel.isActive)
        #expect(h.metric("brokerfront_connections_rejected_total{listener=\"mqtt\",reason=\"malformed_connect\"} 1"))
    }

    @Test("a CONNECT with a bad protocol level is closed")
    func badLevel() throws {
        let h = Harness()
        defer { h.tearDown() }
        try h.connect()
        var bytes = MQTTConnect(version: .v3_1_1, clientID: "dev").encode()
        bytes[8] = 9  // protocol level byte of "MQTT"
        try h.send(bytes)
        #expect(!h.channel.isActive)
    }

    @Test("no complete CONNECT within connect_timeout: closed by the wheel, counted as connect_timeout")
    func connectTimeout() throws {
        let h = Harness()
        defer { h.tearDown() }
        try h.connect()
        let connect = MQTTConnect(version: .v3_1_1, clientID: "slow").encode()
        try h.send(Array(connect.prefix(5)))  // half a CONNECT, then silence
        // 1 s = 10 ticks, plus one tick of rounding slack.
        h.ticks.now = 10
        h.state.wheel.advance(to: 10)
        #expect(h.channel.isActive)
        h.ticks.now = 11
        h.state.wheel.advance(to: 11)
        #expect(!h.channel.isActive)
        #expect(h.metric("brokerfront_connections_rejected_total{listener=\"mqtt\",reason=\"connect_timeout\"} 1"))
    }

    @Test("every server down: a 3.1.1 client gets CONNACK code 3, then close")
    func noServer311() throws {
        let h = Harness()
        defer { h.tearDown() }
        h.markAllServersDown()
        try h.connect()
        try h.send(MQTTConnect(version: .v3_1_1, clientID: "dev-1").encode())
        #expect(try h.outbound() == [0x20, 0x02, 0x00, 0x03])
        #expect(!h.channel.isActive)
        #expect(h.metric("brokerfront_connections_rejected_total{listener=\"mqtt\",reason=\"no_server\"} 1"))
    }

    @Test("every server down: a 5.0 client gets CONNACK reason 0x88, then close")
    func noServer5() throws {
        let h = Harness()
        defer { h.tearDown() }
        h.markAllServersDown()
        try h.connect()
        try h.send(MQTTConnect(version: .v5, clientID: "dev-5").encode())
        #expect(try h.outbound() == [0x20, 0x03, 0x00, 0x88, 0x00])
        #expect(!h.channel.isActive)
    }

    @Test("every server down: a 3.1 client gets CONNACK code 3")
    func noServer31() throws {
        let h = Harness()
        defer { h.tearDown() }
        h.markAllServersDown()
        try h.connect()
        try h.send(MQTTConnect(version: .v3_1, clientID: "legacy").encode())
        #expect(try h.outbound() == [0x20, 0x02, 0x00, 0x03])
    }

    @Test("a CONNECT fed one byte at a time is recognised only when complete")
    func byteAtATime() throws {
        let h = Harness()
        defer { h.tearDown() }
        h.markAllServersDown()
        try h.connect()
        let bytes = MQTTConnect(version: .v5, keepAlive: 30, clientID: "drip", username: "u").encode()
        for byte in bytes.dropLast() {
            try h.send([byte])
            #expect(h.channel.isActive)
        }
        try h.send([bytes[bytes.count - 1]])
        #expect(try h.outbound() == [0x20, 0x03, 0x00, 0x88, 0x00])
    }

    @Test("the client closing first is booked once: active back to 0, reason client_closed, nothing rejected")
    func clientCloses() throws {
        let h = Harness()
        defer { h.tearDown() }
        try h.connect()
        try h.channel.close().wait()
        #expect(h.metric("brokerfront_connections_active{listener=\"mqtt\"} 0.0"))
        #expect(h.metric("brokerfront_connections_total{listener=\"mqtt\"} 1"))
        #expect(h.metric("brokerfront_connections_rejected_total{listener=\"mqtt\",reason=\"malformed_connect\"} 0"))
        #expect(h.state.sessionCount == 0)
    }

    @Test(
        "a CONNECT is parsed once its fixed header says it is whole: a bad MQTT 5 property early in a dribbled CONNECT is judged at the last byte"
    )
    func parsedWhenWhole() throws {
        let h = Harness()
        defer { h.tearDown() }
        try h.connect()
        // 0x7F is no MQTT 5 property (§2.2.2.2): invalid wherever it is read. Parsing every prefix
        // would refuse the client as soon as the property block arrived.
        var connect = MQTTConnect(version: .v5, keepAlive: 30, clientID: String(repeating: "p", count: 60))
        connect.properties = [0x7F, 0x00]
        let bytes = connect.encode()
        for (index, byte) in bytes.dropLast().enumerated() {
            try h.send([byte])
            #expect(h.channel.isActive, "closed after \(index + 1) of \(bytes.count) bytes")
        }
        try h.send([bytes[bytes.count - 1]])
        #expect(!h.channel.isActive)
        // MQTT 5.0 §3.1.4: CONNACK 0x81 Malformed Packet, then the close.
        #expect(try h.outbound() == [0x20, 0x03, 0x00, 0x81, 0x00])
        #expect(h.metric("brokerfront_connections_rejected_total{listener=\"mqtt\",reason=\"malformed_connect\"} 1"))
    }
}
