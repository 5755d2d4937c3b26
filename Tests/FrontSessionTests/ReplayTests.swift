import FrontCore
import MQTTWire
import Testing

@testable import FrontSession

/// A server that closes before answering: the CONNECT goes to one more server, then the client is closed.
@Suite("Session machine: replay")
struct ReplayTests {
    /// A session relaying to `b1`, its CONNECT sent.
    static func relaying(retries: Int = 2, maxConnectSize: Int = 1024) -> SessionHarness {
        var session = SessionHarness(listener: SessionHarness.listener(maxConnectSize: maxConnectSize))
        session.dialing(SessionHarness.backend(retries: retries))
        session.opened()
        return session
    }

    @Test(
        "a silent close after the CONNECT went out is replayed to the next server, never reported; a second is unanswered_connect"
    )
    func replayOnceThenUnanswered() {
        var session = Self.relaying()
        #expect(session.machine.isReplaying)
        #expect(session.feed(.serverClosed) == ["server lost", "dial b2"])
        #expect(session.machine.unansweredCloses == 1)
        #expect(session.machine.phase == .dialing)
        session.opened()
        #expect(session.machine.isReplaying)
        #expect(session.feed(.serverClosed) == ["server lost", "refuse unanswered_connect"])
        #expect(session.machine.reason == .unansweredConnect)
        #expect(CloseReason.unansweredConnect.isRejection)
    }

    @Test("the only server hangs up before answering: no server left, Server unavailable")
    func onlyServer() {
        var session = SessionHarness()
        session.dialing(SessionHarness.backend(retries: 2, servers: 1))
        session.opened()
        #expect(session.feed(.serverClosed) == ["server lost", "refuse no_server 20 2 0 3"])
    }

    @Test("the relay thread's loss (closedSilently) follows the same rule as the channel's close")
    func relayThreadLoss() {
        var session = Self.relaying()
        #expect(session.feed(.dialFailed(.closedSilently)) == ["server lost", "dial b2"])
        session.opened(connected: false)
        #expect(session.feed(.dialFailed(.closedSilently)) == ["server lost", "refuse unanswered_connect"])
    }

    @Test("a FIN from the server before it answered drops its connection; the close that follows is replayed")
    func finBeforeAnswer() {
        var session = Self.relaying()
        #expect(session.feed(.inputClosed(.server)) == ["drop server"])
        #expect(session.feed(.serverClosed) == ["server lost", "dial b2"])
    }

    @Test("an answered session is not replayed: the server's close ends it as server_closed")
    func answeredNoReplay() {
        var session = Self.relaying()
        session.server([0x20, 0x02, 0x00, 0x00])
        #expect(!session.machine.isReplaying)
        #expect(session.machine.tried.isEmpty)
        #expect(session.feed(.serverClosed) == ["close server_closed"])
        var relayed = Self.relaying()
        relayed.feed(.serverAnswered)
        #expect(relayed.feed(.serverClosed) == ["close server_closed"])
    }

    @Test("the replay is dropped past 2 × max_connect_size: then a close is the end")
    func replayBound() {
        var session = Self.relaying(maxConnectSize: 64)
        let sent = session.pending.count
        session.client([UInt8](repeating: 0xC0, count: 128 - sent))
        #expect(session.machine.isReplaying)
        session.client([0xC0])
        #expect(!session.machine.isReplaying)
        #expect(session.feed(.serverClosed) == ["close server_closed"])
    }

    @Test("no retry left and no unanswered close yet: nothing is kept, a close is the end")
    func noRetryLeft() {
        var session = Self.relaying(retries: 0)
        #expect(!session.machine.keepsReplay)
        #expect(session.feed(.serverClosed) == ["close server_closed"])
    }

    @Test("the client gone (FIN) before the server's silent close: no replay, the client is blamed")
    func clientFinishedFirst() {
        var session = Self.relaying()
        #expect(session.feed(.inputClosed(.client)) == ["shutdown server"])
        #expect(session.feed(.serverClosed) == ["close client_closed"])
    }
}
