import FrontCore
import MQTTWire
import ProxyProtocol
import Testing

@testable import FrontSession

/// Routing and the dial sequence: retries, passive health, port collisions, failover races.
@Suite("Session machine: dialing")
struct DialTests {
    @Test("a refused dial is reported for passive health and the next server is dialed; none left: no_server CONNACK")
    func refusedThenNext() {
        let backend = SessionHarness.backend(retries: 1)
        var session = SessionHarness()
        session.dialing(backend)
        #expect(session.machine.target?.name == "b1")
        #expect(session.feed(.dialFailed(.refused)) == ["report b1 refused", "dial b2"])
        #expect(session.feed(.dialFailed(.reset)) == ["report b2 reset", "refuse no_server 20 2 0 3"])
        #expect(session.machine.reason == .noServer)
    }

    @Test("the report counts against the server: a refusal takes it down, so the next session skips it")
    func reportMarksDown() {
        let backend = SessionHarness.backend()
        var first = SessionHarness()
        first.dialing(backend)
        let actions = first.machine.handle(.dialFailed(.refused), at: first.now)
        for case .dialFailed(let server, let failure, true) in actions {
            _ = server.dialFailed(at: first.now, definitive: failure.isDefinitive, begunAt: failure.begunAt)
        }
        var second = SessionHarness()
        second.feed(.admission(.admitted))
        second.client(SessionHarness.connect())
        second.feed(.admission(.admitted))
        #expect(second.route(backend) == ["dial b2"])
    }

    @Test("retries: attempts are retries + 1, servers tried are not tried again")
    func attempts() {
        var session = SessionHarness()
        session.dialing(SessionHarness.backend(retries: 5, servers: 2))
        #expect(session.machine.attemptsLeft == 5)
        #expect(session.feed(.dialFailed(.refused)) == ["report b1 refused", "dial b2"])
        #expect(session.feed(.dialFailed(.refused)) == ["report b2 refused", "refuse no_server 20 2 0 3"])
        var none = SessionHarness()
        none.dialing(SessionHarness.backend(retries: 0))
        #expect(none.feed(.dialFailed(.refused)) == ["report b1 refused", "refuse no_server 20 2 0 3"])
    }

    @Test("a timeout carries when its dial began: a dial that went through since keeps the server up")
    func timeoutNeedsBegunAt() {
        let backend = SessionHarness.backend()
        var session = SessionHarness()
        session.dialing(backend)
        let begun = session.now
        session.advance(.seconds(2))
        let actions = session.machine.handle(.dialFailed(.timedOut(begunAt: nil)), at: session.now)
        var reported: DialFailure?
        for case .dialFailed(let server, let failure, true) in actions {
            reported = failure
            #expect(server.name == "b1")
        }
        #expect(reported == .timedOut(begunAt: begun))
        #expect(reported?.isDefinitive == false)
        // A later dial to b1 went through: the old timeout is no evidence, b1 stays up however many.
        _ = backend.servers[0].dialSucceeded()
        for _ in 0..<5 {
            #expect(backend.servers[0].dialFailed(at: .now(), definitive: false, begunAt: begun) == nil)
        }
        #expect(backend.servers[0].isUsable)
    }

    @Test("a lack of a local resource is not reported against the server, and the next one is tried")
    func localResource() {
        var session = SessionHarness()
        session.dialing(SessionHarness.backend())
        #expect(
            session.feed(.dialFailed(.localResource(errno: 24))) == ["ignore b1 localResource(errno: 24)", "dial b2"])
    }

    @Test("a source port collision retries the same server with another port, 16 times, then counts as local")
    func portCollisions() {
        var session = SessionHarness()
        session.dialing(SessionHarness.backend())
        for _ in 0..<Int(SessionMachine.maxPortCollisions) {
            #expect(session.feed(.dialFailed(.portCollision)) == ["dial b1 again"])
        }
        #expect(session.machine.attemptsLeft == 2)
        #expect(session.feed(.dialFailed(.portCollision)) == ["ignore b1 portCollision", "dial b2"])
    }

    @Test("a dial that completed after a failover is no evidence and gives its attempt back")
    func superseded() {
        var session = SessionHarness()
        session.dialing(SessionHarness.backend(retries: 0))
        #expect(session.feed(.dialFailed(.superseded)) == ["dial b2"])
        #expect(session.machine.attemptsLeft == 0)
        #expect(session.machine.tried.map(\.name) == ["b1", "b2"])
    }

    @Test("send_proxy_protocol: the dial carries the header naming the client and the address it connected to")
    func proxyHeaderForBroker() throws {
        var session = SessionHarness()
        session.feed(.admission(.admitted))
        session.client(SessionHarness.connect())
        session.feed(.admission(.admitted))
        let actions = session.machine.handle(
            .routed(
                SessionRoute(
                    backend: SessionHarness.backend(sendProxy: .v1), client: SessionHarness.client,
                    destination: SessionHarness.destination, certificateCN: nil)), at: session.now)
        let order = try #require(SessionHarness.order(actions))
        #expect(
            order.proxyHeader
                == ProxyHeaderEncoder.v1(source: SessionHarness.client, destination: SessionHarness.destination))
        #expect(order.timeout == .seconds(2))
        var plain = SessionHarness()
        plain.dialing(SessionHarness.backend())
        #expect(plain.machine.target != nil)
    }

    @Test("a connect that failed on a relay thread (the session moved already) is undone, reported, and redialed")
    func relayThreadConnectFailure() {
        var session = SessionHarness()
        session.dialing(SessionHarness.backend())
        session.opened(connected: false)
        #expect(session.machine.phase == .relaying)
        let refused = DialFailure(errno: 111, stage: .connecting, pickedPort: false)
        #expect(session.feed(.dialFailed(refused)) == ["server lost", "report b1 refused", "dial b2"])
        #expect(!session.machine.awaitsConnect)
        #expect(session.machine.phase == .dialing)
    }

    @Test("errno → DialFailure: one mapping for the SwiftNIO shell and the relay threads")
    func errnoMapping() {
        #expect(DialFailure(errno: 111, stage: .connecting, pickedPort: false) == .refused)
        #expect(DialFailure(errno: 104, stage: .connecting, pickedPort: false) == .reset)
        #expect(DialFailure(errno: 104, stage: .sent, pickedPort: false) == .closedSilently)
        let begun = MonotonicTime(nanoseconds: 42)
        #expect(
            DialFailure(errno: 110, stage: .connecting, pickedPort: false, begunAt: begun) == .timedOut(begunAt: begun))
        #expect(DialFailure(errno: 99, stage: .connecting, pickedPort: true) == .portCollision)
        #expect(DialFailure(errno: 98, stage: .connecting, pickedPort: true) == .portCollision)
        #expect(DialFailure(errno: 99, stage: .connecting, pickedPort: false) == .localResource(errno: 99))
        #expect(DialFailure(errno: 24, stage: .connecting, pickedPort: false) == .localResource(errno: 24))
        #expect(DialFailure(errno: 113, stage: .connecting, pickedPort: false) == .refused)
        #expect(DialFailure.refused.isEvidence && DialFailure.reset.isDefinitive)
        #expect(!DialFailure.closedSilently.isEvidence && !DialFailure.superseded.isEvidence)
        #expect(!DialFailure.localResource(errno: 24).isEvidence)
    }
}
