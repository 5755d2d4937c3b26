import CoreMetrics
import Foundation
import FrontCore
import FrontTesting
import MQTTWire
import Synchronization
import Testing

import struct NIOConcurrencyHelpers.NIOLockedValueBox

@testable import FrontProxy

#if canImport(Glibc)
    import Glibc
#endif

/// The relay thread's connect phase, over socket pairs: the session is adopted with
/// its server socket already open, and the engine reports a server lost before it answered instead of
/// ending the session, so the handler can send the same bytes elsewhere or refuse.
@Suite("Relay engine: sessions adopted while dialing")
struct RelayEngineDialTests {
    typealias Pair = (far: CInt, near: CInt)

    final class Fixture: Sendable {
        let engine: RelayEngine
        let client: Pair
        let link: RelayLink
        let endings = NIOLockedValueBox<[CloseReason?]>([])
        let losses = NIOLockedValueBox<[RelayDialLoss]>([])
        let keepAlives = NIOLockedValueBox<[UInt16]>([])

        init(probe: Bool = false) throws {
            engine = try RelayEngine(name: "test-dial")
            try engine.start()
            client = try RelayEngineTests.Fixture.socketPair()
            let (endings, losses, keepAlives) = (self.endings, self.losses, self.keepAlives)
            let hooks = RelayDialHooks(
                probeServerKeepAlive: probe, replayLimit: 64,
                serverKeepAlive: { seconds in keepAlives.withLockedValue { $0.append(seconds) } },
                lost: { loss in losses.withLockedValue { $0.append(loss) } })
            link = RelayLink(
                serverBytesAreActivity: false, bytesIn: Counter(label: "test_in"), bytesOut: Counter(label: "test_out"),
                dialHooks: hooks
            ) { reason in endings.withLockedValue { $0.append(reason) } }
        }

        deinit { Glibc.close(client.far) }

        /// A new server socket pair; the engine gets the near end as if connect() had just been called
        /// and `sent` of `bytes` had gone out.
        func dial(_ bytes: [UInt8], sent: Int = 0, replayable: Bool = true, first: Bool) throws -> CInt {
            let server = try RelayEngineTests.Fixture.socketPair()
            let dial = RelayServerDial(
                fd: server.1, connected: true, bytes: bytes, sentCount: sent, replayable: replayable)
            if first {
                engine.adoptDialing(client: client.near, dial: dial, link: link, tracker: MQTTStreamTracker())
            } else {
                engine.redial(link, dial)
            }
            return server.0
        }

        /// The first server, with the CONNECT it was sent already read from its far end.
        func firstServer(replayable: Bool = true) throws -> CInt {
            let server = try dial(RelayEngineDialTests.connectPacket, replayable: replayable, first: true)
            _ = RelayEngineTests.receive(server, count: RelayEngineDialTests.connectPacket.count)
            return server
        }

        /// After the server's close: the client sees the FIN passed on, finishes too, and the engine
        /// reports the server as the side that ended.
        func expectServerEnded() async {
            #expect(RelayEngineTests.seesEOF(client.far))
            shutdown(client.far, CInt(SHUT_WR))
            #expect(await waitForEnding() == .some(.serverClosed))
        }

        func waitForLoss() async -> RelayDialLoss? {
            await Poll.value(timeout: .seconds(5), interval: .milliseconds(5)) { losses.withLockedValue { $0.first } }
        }

        func waitForEnding() async -> CloseReason?? {
            await Poll.value(timeout: .seconds(5), interval: .milliseconds(5)) { endings.withLockedValue { $0.first } }
        }
    }

    static let connectPacket: [UInt8] = [0x10, 0x0C, 0, 4] + Array("MQTT".utf8) + [4, 2, 0, 60, 0, 0]

    @Test("the unsent part of the CONNECT goes out first; the client is read only after it; bytes flow both ways")
    func unsentBytesFirst() async throws {
        let fixture = try Fixture()
        // Four bytes went out with the handler's first send; the engine sends the rest.
        let server = try fixture.dial(Self.connectPacket, sent: 4, first: true)
        #expect(
            RelayEngineTests.receive(server, count: Self.connectPacket.count - 4) == Array(Self.connectPacket[4...]))
        RelayEngineTests.send(server, [0x20, 0x02, 0x00, 0x00])
        #expect(RelayEngineTests.receive(fixture.client.far, count: 4) == [0x20, 0x02, 0x00, 0x00])
        let answered = fixture.link.answered.load(ordering: .relaxed)
        let connected = fixture.link.connected.load(ordering: .relaxed)
        #expect(answered && connected)
        RelayEngineTests.send(fixture.client.far, [0xE0, 0x00])
        #expect(RelayEngineTests.receive(server, count: 2) == [0xE0, 0x00])
        shutdown(fixture.client.far, CInt(SHUT_WR))
        #expect(RelayEngineTests.seesEOF(server))
        Glibc.close(server)
        #expect(await fixture.waitForEnding() == .some(.clientClosed))
        #expect(fixture.losses.withLockedValue { $0.isEmpty })
        #expect(fixture.engine.sessionCount.load(ordering: .relaxed) == 0)
        fixture.engine.stop()
    }

    @Test("a server that closes before answering is reported with every byte sent to it; the next one gets them all")
    func silentServerReplayed() async throws {
        let fixture = try Fixture()
        let first = try fixture.dial(Self.connectPacket, first: true)
        #expect(RelayEngineTests.receive(first, count: Self.connectPacket.count) == Self.connectPacket)
        // The client pipelines a PINGREQ behind its CONNECT; then the server hangs up without a word.
        RelayEngineTests.send(fixture.client.far, [0xC0, 0x00])
        #expect(RelayEngineTests.receive(first, count: 2) == [0xC0, 0x00])
        Glibc.close(first)
        let loss = await fixture.waitForLoss()
        #expect(loss == .silent(resend: Self.connectPacket + [0xC0, 0x00]))
        let stillConnected = fixture.link.connected.load(ordering: .relaxed)
        #expect(!stillConnected)
        #expect(fixture.endings.withLockedValue { $0.isEmpty })

        let second = try fixture.dial(loss?.resend ?? [], first: false)
        #expect(
            RelayEngineTests.receive(second, count: Self.connectPacket.count + 2) == Self.connectPacket + [0xC0, 0x00])
        RelayEngineTests.send(second, [0x20, 0x02, 0x00, 0x00, 0xD0, 0x00])
        #expect(RelayEngineTests.receive(fixture.client.far, count: 6) == [0x20, 0x02, 0x00, 0x00, 0xD0, 0x00])
        // Answered: a close now is the server's end, passed on.
        Glibc.close(second)
        await fixture.expectServerEnded()
        #expect(fixture.losses.withLockedValue { $0.count } == 1)
        fixture.engine.stop()
    }

    @Test("refused after a loss: the client gets the refusal bytes, then EOF; the engine reports nil")
    func refuseAfterLoss() async throws {
        let fixture = try Fixture()
        let first = try fixture.firstServer()
        Glibc.close(first)
        _ = await fixture.waitForLoss()
        fixture.engine.refuse(fixture.link, with: [0x20, 0x02, 0x00, 0x03])
        #expect(RelayEngineTests.receive(fixture.client.far, count: 4) == [0x20, 0x02, 0x00, 0x03])
        #expect(RelayEngineTests.seesEOF(fixture.client.far))
        #expect(await fixture.waitForEnding() == .some(nil))
        #expect(fixture.engine.sessionCount.load(ordering: .relaxed) == 0)
        fixture.engine.stop()
    }

    @Test("not replayable (tcp, or no retry left): a close before answering just ends the session")
    func notReplayableEnds() async throws {
        let fixture = try Fixture()
        let first = try fixture.firstServer(replayable: false)
        Glibc.close(first)
        // The server's FIN is passed on as on any relayed session; it ends when the client is done too.
        await fixture.expectServerEnded()
        #expect(fixture.losses.withLockedValue { $0.isEmpty })
        fixture.engine.stop()
    }

    @Test("client bytes past the replay limit give up the replay: a later close ends the session")
    func replayLimit() async throws {
        let fixture = try Fixture()
        let first = try fixture.firstServer()
        let publish: [UInt8] = [0x30, 62, 0, 1, 0x61] + [UInt8](repeating: 0x7A, count: 59)
        RelayEngineTests.send(fixture.client.far, publish)
        #expect(RelayEngineTests.receive(first, count: publish.count) == publish)
        Glibc.close(first)
        // The server's FIN is passed on as on any relayed session; it ends when the client is done too.
        await fixture.expectServerEnded()
        #expect(fixture.losses.withLockedValue { $0.isEmpty })
        fixture.engine.stop()
    }

    @Test("MQTT 5: the CONNACK's Server Keep Alive is read (split across reads) and reported once")
    func serverKeepAliveProbe() async throws {
        let fixture = try Fixture(probe: true)
        let server = try fixture.dial(Self.connectPacket, first: true)
        _ = RelayEngineTests.receive(server, count: Self.connectPacket.count)
        // CONNACK 5.0: flags 0, reason 0, properties (3 bytes): Server Keep Alive (0x13) = 10.
        let connack: [UInt8] = [0x20, 0x06, 0x00, 0x00, 0x03, 0x13, 0x00, 0x0A]
        RelayEngineTests.send(server, Array(connack[0..<3]))
        try await Task.sleep(for: .milliseconds(50))
        RelayEngineTests.send(server, Array(connack[3...]))
        #expect(RelayEngineTests.receive(fixture.client.far, count: connack.count) == connack)
        let told = await Poll.until(timeout: .seconds(5), interval: .milliseconds(5)) {
            !fixture.keepAlives.withLockedValue { $0 }.isEmpty
        }
        #expect(told)
        #expect(fixture.keepAlives.withLockedValue { $0 } == [10])
        fixture.engine.close(fixture.link)
        #expect(await fixture.waitForEnding() == .some(nil))
        Glibc.close(server)
        fixture.engine.stop()
    }

    @Test("a connect that is still in progress at the deadline is reported as ETIMEDOUT with its bytes")
    func abortWhileConnecting() async throws {
        let fixture = try Fixture()
        // A TCP socket toward a listener that never accepts and whose queue is full stays connecting.
        let server = try Self.connectingSocket()
        defer { Glibc.close(server.listener) }
        let dial = RelayServerDial(
            fd: server.fd, connected: false, bytes: Self.connectPacket, sentCount: 0, replayable: true)
        fixture.engine.adoptDialing(client: fixture.client.near, dial: dial, link: fixture.link, tracker: nil)
        // Deliberately 100 ms: the connect must not complete meanwhile (nothing to poll for).
        try await Task.sleep(for: .milliseconds(100))
        let connected = fixture.link.connected.load(ordering: .relaxed)
        #expect(!connected)
        fixture.engine.abortDial(fixture.link)
        #expect(await fixture.waitForLoss() == .failed(errno: ETIMEDOUT, resend: Self.connectPacket))
        fixture.engine.close(fixture.link)
        #expect(await fixture.waitForEnding() == .some(nil))
        for fd in server.fillers { Glibc.close(fd) }
        fixture.engine.stop()
    }

    @Test("handed over after the thread stopped: the session ends at once (shutdown) and both sockets close")
    func turnedAwayAfterStop() async throws {
        let fixture = try Fixture()
        fixture.engine.stop()
        let server = try RelayEngineTests.Fixture.socketPair()
        defer { Glibc.close(server.0) }
        let dial = RelayServerDial(
            fd: server.1, connected: true, bytes: Self.connectPacket, sentCount: 0, replayable: true)
        fixture.engine.adoptDialing(client: fixture.client.near, dial: dial, link: fixture.link, tracker: nil)
        #expect(await fixture.waitForEnding() == .some(.shutdown))
        #expect(fixture.engine.sessionCount.load(ordering: .relaxed) == 0)
        // Nothing was relayed, and the far ends see both sockets closed.
        #expect(RelayEngineTests.seesEOF(fixture.client.far))
        #expect(RelayEngineTests.seesEOF(server.0))
    }

    /// A non-blocking socket whose connect() stays in progress: toward a listener with backlog 0
    /// whose queue is already taken by other connections, so its SYNs are dropped.
    static func connectingSocket() throws -> (fd: CInt, listener: CInt, fillers: [CInt]) {
        guard let listener = BoundSocketForTest.listening(backlog: 0) else {
            throw RelayEngineError(call: "listen", errno: errno)
        }
        let port = BoundSocketForTest.port(of: listener)
        var fillers: [CInt] = []
        // Fill the accept queue (backlog 0 holds one; a few more to be safe), each connect blocking briefly.
        for _ in 0..<3 {
            let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue), 0)
            _ = BoundSocketForTest.connect(fd, port: port)
            fillers.append(fd)
        }
        usleep(100_000)
        let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue), 0)
        _ = BoundSocketForTest.connect(fd, port: port)
        return (fd, listener, fillers)
    }
}

/// Plain IPv4 loopback sockets for the connect-phase tests.
enum BoundSocketForTest {
    static func address(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    static func listening(backlog: CInt) -> CInt? {
        let fd = socket(AF_INET, CInt(SOCK_STREAM.rawValue), 0)
        var address = address(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard fd >= 0, bound == 0, listen(fd, backlog) == 0 else { return nil }
        return fd
    }

    static func port(of fd: CInt) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    static func connect(_ fd: CInt, port: UInt16) -> CInt {
        var address = address(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }
}
