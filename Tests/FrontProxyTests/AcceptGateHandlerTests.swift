import FrontTesting
import NIOCore
import NIOEmbedded
import NIOPosix
import Synchronization
import Testing

@testable import FrontProxy

/// The accept gate in an embedded listening channel: accepted children are fed in as they would come
/// from `accept`, and what passes the gate is collected at the end of the pipeline.
@Suite("Accept gate")
struct AcceptGateHandlerTests {
    /// Collects the children that passed the gate.
    final class Passed: ChannelInboundHandler {
        typealias InboundIn = any Channel
        var children: [any Channel] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            children.append(unwrapInboundIn(data))
        }
    }

    /// Connections the gate closed because too many were parked.
    final class Overshoots: Sendable {
        let count = Atomic<Int>(0)
    }

    struct Gate {
        let server: EmbeddedChannel
        let passed: Passed
        let listener: ConnectionLimiter
        let global: ConnectionLimiter
        let overshoots: Overshoots
    }

    static func gate(listenerCap: Int, globalCap: Int = 0) throws -> Gate {
        let listener = ConnectionLimiter(capacity: listenerCap)
        let global = ConnectionLimiter(capacity: globalCap)
        let overshoots = Overshoots()
        let passed = Passed()
        let server = EmbeddedChannel()
        try server.pipeline.syncOperations.addHandler(
            AcceptGateHandler(listener: listener, global: global) { overshoots.count.add(1, ordering: .relaxed) })
        try server.pipeline.syncOperations.addHandler(passed)
        return Gate(server: server, passed: passed, listener: listener, global: global, overshoots: overshoots)
    }

    static func child(_ loop: EmbeddedEventLoop) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test("at the cap a connection that was accepted anyway is parked, not closed, and goes on when a slot frees")
    func parksOvershoot() throws {
        let gate = try Self.gate(listenerCap: 1)
        let loop = try #require(gate.server.eventLoop as? EmbeddedEventLoop)
        let first = try Self.child(loop)
        let second = try Self.child(loop)
        let third = try Self.child(loop)
        try gate.server.writeInbound(first as any Channel)
        try gate.server.writeInbound(second as any Channel)
        try gate.server.writeInbound(third as any Channel)
        #expect(gate.passed.children.count == 1)
        #expect(second.isActive && third.isActive, "parked, still open: the client sees a connection not yet answered")
        #expect(gate.overshoots.count.load(ordering: .relaxed) == 0)
        #expect(gate.listener.current == 1)

        // No accepting while connections are parked.
        gate.server.read()
        #expect(gate.passed.children.count == 1)

        try first.close().wait()
        loop.run()
        #expect(gate.passed.children.count == 2)
        #expect(gate.passed.children.last === second as any Channel, "the oldest parked connection goes first")
        try second.close().wait()
        loop.run()
        #expect(gate.passed.children.count == 3)
        #expect(gate.listener.current == 1)
        try third.close().wait()
        loop.run()
        #expect(gate.listener.current == 0)
        _ = try gate.server.finish()
    }

    @Test("parked connections are closed with the listener")
    func closesParkedWithListener() throws {
        let gate = try Self.gate(listenerCap: 10, globalCap: 1)
        let loop = try #require(gate.server.eventLoop as? EmbeddedEventLoop)
        let first = try Self.child(loop)
        let parked = try Self.child(loop)
        try gate.server.writeInbound(first as any Channel)
        try gate.server.writeInbound(parked as any Channel)
        #expect(gate.passed.children.count == 1)
        #expect(
            gate.listener.current == 1 && gate.global.current == 1, "a failed global slot gives the listener's back")
        try gate.server.close().wait()
        loop.run()
        #expect(!parked.isActive)
        #expect(first.isActive, "sessions already passed are not the listener's to close")
        try first.close().wait()
        loop.run()  // the slot-freed wake-up queued by that close
    }

    @Test("a listener socket cannot be bound where something already listens")
    func probeRefusesTakenPort() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let other = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: FreePort.next()).wait()
        defer { try? other.close().wait() }
        let port = try #require(other.localAddress?.port)
        #expect(throws: IOError.self) { try ListenerProbe.ensureNobodyListens(host: "127.0.0.1", port: port) }
        try other.close().wait()
        try ListenerProbe.ensureNobodyListens(host: "127.0.0.1", port: port)
    }
}
