import FrontCore
import MQTTWire
import Testing

@testable import FrontSession

/// Relaying: idle deadlines, MQTT 5 Server Keep Alive, FINs, DISCONNECT, the relay thread's connect deadline.
@Suite("Session machine: relaying")
struct RelayTests {
    static func relaying(
        _ version: MQTTProtocolVersion = .v3_1_1, keepAlive: UInt16 = 60, idle: Duration = .seconds(600)
    ) -> SessionHarness {
        var session = SessionHarness(listener: SessionHarness.listener(idle: idle))
        session.dialing(SessionHarness.backend(), connect: SessionHarness.connect(version, keepAlive: keepAlive))
        session.opened()
        return session
    }

    @Test("the idle deadline is keepalive × factor from the last client byte; a pinging client stays")
    func keepaliveIdle() {
        var session = Self.relaying(keepAlive: 10)
        #expect(session.until(session.machine.deadline) == .seconds(15))
        session.advance(.seconds(10))
        session.client([0xC0, 0x00])
        #expect(session.feed(.tick) == ["arm"])
        #expect(session.until(session.machine.deadline) == .seconds(15))
        // Server bytes are not the client's keepalive (MQTT).
        session.advance(.seconds(10))
        session.server([0xD0, 0x00])
        session.advance(.seconds(5))
        #expect(session.feed(.tick) == ["close idle_timeout"])
        #expect(session.machine.reason == .idleTimeout)
    }

    @Test("keepalive 0: the listener's idle_timeout; a relay thread's activity moves the deadline")
    func keepaliveZero() {
        var session = Self.relaying(keepAlive: 0, idle: .seconds(30))
        #expect(session.until(session.machine.deadline) == .seconds(30))
        session.advance(.seconds(29))
        session.feed(.activity(session.now))
        session.advance(.seconds(29))
        #expect(session.feed(.tick) == ["arm"])
        session.advance(.seconds(1))
        #expect(session.feed(.tick) == ["close idle_timeout"])
    }

    @Test("MQTT 5: the CONNACK's Server Keep Alive replaces the client's, read in pieces; 3.1.1 has none")
    func serverKeepAlive() {
        var session = Self.relaying(.v5, keepAlive: 60)
        #expect(session.until(session.machine.deadline) == .seconds(90))
        let connack: [UInt8] = [0x20, 0x06, 0x00, 0x00, 0x03, 0x13, 0x00, 0x0A]
        #expect(session.server(Array(connack.prefix(3))) == [])
        #expect(session.server(Array(connack.dropFirst(3))) == ["arm"])
        #expect(session.until(session.machine.deadline) == .seconds(15))
        // On a relay thread: told as a value.
        var relayed = Self.relaying(.v5, keepAlive: 60)
        #expect(relayed.feed(.serverKeepAlive(10)) == ["arm"])
        #expect(relayed.until(relayed.machine.deadline) == .seconds(15))
        // 3.1.1: the CONNACK is not read for one.
        var older = Self.relaying(.v3_1_1, keepAlive: 60)
        #expect(!older.machine.readsConnAck)
        #expect(older.server([0x20, 0x02, 0x00, 0x00]) == [])
        #expect(older.until(older.machine.deadline) == .seconds(90))
    }

    @Test("FIN: passed on; once both sides finished, the first to finish is blamed")
    func finBlame() {
        var clientFirst = Self.relaying()
        clientFirst.server([0x20, 0x02, 0x00, 0x00])
        #expect(clientFirst.feed(.inputClosed(.client)) == ["shutdown server"])
        #expect(clientFirst.feed(.inputClosed(.server)) == ["close client_closed"])
        var serverFirst = Self.relaying()
        serverFirst.server([0x20, 0x02, 0x00, 0x00])
        #expect(serverFirst.feed(.inputClosed(.server)) == ["shutdown client"])
        #expect(serverFirst.feed(.inputClosed(.client)) == ["close server_closed"])
        // A close after a FIN is blamed on who finished first.
        var closed = Self.relaying()
        closed.server([0x20, 0x02, 0x00, 0x00])
        closed.feed(.inputClosed(.server))
        #expect(closed.feed(.clientClosed) == ["close server_closed"])
    }

    @Test("a client DISCONNECT, then the broker's close: client_closed")
    func disconnectThenClose() {
        var session = Self.relaying()
        session.server([0x20, 0x02, 0x00, 0x00])
        session.client([0x30, 0x03, 0x00, 0x01, 0x61, 0xE0, 0x00])
        #expect(session.machine.firstToFinish == .clientClosed)
        #expect(session.feed(.serverClosed) == ["close client_closed"])
        var plain = Self.relaying()
        plain.server([0x20, 0x02, 0x00, 0x00])
        #expect(plain.feed(.serverClosed) == ["close server_closed"])
    }

    @Test("a DISCONNECT pipelined behind the CONNECT counts from the start of the relay")
    func pipelinedDisconnect() {
        var session = SessionHarness()
        session.feed(.admission(.admitted))
        session.client(SessionHarness.connect())
        session.feed(.admission(.admitted))
        session.route(SessionHarness.backend())
        session.pending += [0xE0, 0x00]
        session.opened()
        #expect(session.machine.firstToFinish == .clientClosed)
    }

    @Test("relay thread connect: a connect in progress must complete by the backend's connect_timeout")
    func dialDeadline() {
        var session = SessionHarness()
        session.dialing(SessionHarness.backend())
        session.opened(connected: false)
        #expect(session.machine.awaitsConnect)
        #expect(session.until(session.machine.deadline) == .seconds(2))
        session.advance(.seconds(2))
        #expect(session.feed(.tick) == ["abort dial", "arm"])
        #expect(session.feed(.dialFailed(.timedOut(begunAt: nil))).first?.hasPrefix("server lost") == true)
        var connected = SessionHarness()
        connected.dialing(SessionHarness.backend())
        connected.opened(connected: false)
        #expect(connected.feed(.serverConnected) == ["arm"])
        #expect(connected.until(connected.machine.deadline) == .seconds(90))
    }

    @Test("ended from outside: the first reason stays")
    func terminate() {
        var session = Self.relaying()
        #expect(session.feed(.terminate(.serverDown)) == ["close server_down"])
        #expect(session.feed(.clientClosed) == ["close server_down"])
        #expect(session.machine.reason == .serverDown)
    }
}
