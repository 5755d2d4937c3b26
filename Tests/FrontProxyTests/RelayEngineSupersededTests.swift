import FrontCore
import MQTTWire
import Testing

@testable import FrontProxy

#if canImport(Glibc)
    import Glibc
#endif

/// A relay thread's connect that completes after the session's server stopped being the one the
/// failover decision chooses (a failover while the dial was in flight).
@Suite("Relay engine: a connect completed after a failover")
struct RelayEngineSupersededTests {
    @Test(
        "a connect whose hook says the session no longer goes there is lost as superseded, with every byte for the next server and none sent"
    )
    func supersededConnect() async throws {
        let fixture = try RelayEngineDialTests.Fixture()
        let server = try RelayEngineTests.Fixture.socketPair()
        var dial = RelayServerDial(
            fd: server.1, connected: false, bytes: RelayEngineDialTests.connectPacket, sentCount: 0, replayable: true)
        dial.onConnected = { false }
        fixture.engine.adoptDialing(
            client: fixture.client.near, dial: dial, link: fixture.link, tracker: MQTTStreamTracker())
        #expect(await fixture.waitForLoss() == .superseded(resend: RelayEngineDialTests.connectPacket))
        #expect(RelayEngineTests.seesEOF(server.0), "closed without a byte")
        #expect(fixture.endings.withLockedValue { $0.isEmpty })
        fixture.engine.close(fixture.link)
        #expect(await fixture.waitForEnding() == .some(nil))
        Glibc.close(server.0)
        fixture.engine.stop()
    }
}
