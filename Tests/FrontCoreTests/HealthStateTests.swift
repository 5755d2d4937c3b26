import FrontConfig
import Testing

@testable import FrontCore

@Suite("Passive health state machine")
struct HealthStateTests {
    let t0 = MonotonicTime(nanoseconds: 5_000_000_000)

    @Test("a failed dial marks the server down; it is retried after 1 s, doubling to 30 s")
    func backoff() {
        var state = ServerHealthState()
        #expect(state.acceptsNewSessions(at: t0))
        #expect(state.dialFailed(at: t0) == .wentDown)
        #expect(!state.acceptsNewSessions(at: t0))
        #expect(!state.acceptsNewSessions(at: t0.adding(.milliseconds(999))))
        #expect(state.acceptsNewSessions(at: t0.adding(.seconds(1))))
        var now = t0.adding(.seconds(1))
        var expected: [Int64] = [2, 4, 8, 16, 30, 30, 30]
        for wait in expected {
            #expect(state.dialFailed(at: now) == nil)
            #expect(!state.acceptsNewSessions(at: now.adding(.seconds(wait) - .milliseconds(1))))
            #expect(state.acceptsNewSessions(at: now.adding(.seconds(wait))))
            now = now.adding(.seconds(wait))
        }
        expected.removeAll()
        #expect(state.dialSucceeded() == .wentUp)
        #expect(state.acceptsNewSessions(at: now))
        #expect(state.dialSucceeded() == nil)
    }

    @Test("timeouts take a server down only after three in a row; a refusal does at once")
    func ambiguousFailures() {
        var state = ServerHealthState()
        #expect(state.dialFailed(at: t0, definitive: false) == nil)
        #expect(state.acceptsNewSessions(at: t0))
        #expect(state.dialFailed(at: t0, definitive: false) == nil)
        #expect(state.dialFailed(at: t0, definitive: false) == .wentDown)
        var refused = ServerHealthState()
        #expect(refused.dialFailed(at: t0, definitive: true) == .wentDown)
        var reset = ServerHealthState()
        _ = reset.dialFailed(at: t0, definitive: false)
        #expect(reset.dialSucceeded() == nil)
        #expect(reset.consecutiveDialFailures == 0)
    }

    @Test(
        "a connect storm against a busy broker: timeouts of dials begun before a later dial went through are no evidence; once nothing has gone through since they began, three in a row take the server down"
    )
    func timeoutsOutrunBySuccess() {
        var state = ServerHealthState()
        let connected = t0.adding(.seconds(1))
        #expect(state.dialSucceeded(at: connected) == nil)
        // Dials begun at t0 time out 2 s later, after the one that connected at t0 + 1 s: any number of them.
        for _ in 0..<10 {
            #expect(state.dialFailed(at: t0.adding(.seconds(2)), definitive: false, begunAt: t0) == nil)
        }
        #expect(state.consecutiveDialFailures == 0)
        #expect(state.acceptsNewSessions(at: t0.adding(.seconds(2))))
        // A refusal is proof whenever its dial began.
        var refused = state
        #expect(refused.dialFailed(at: t0.adding(.seconds(2)), definitive: true, begunAt: t0) == .wentDown)
        // Dials begun after the last success that time out: counted, three in a row mark it down.
        let later = connected.adding(.milliseconds(1))
        let failedAt = later.adding(.seconds(2))
        #expect(state.dialFailed(at: failedAt, definitive: false, begunAt: later) == nil)
        #expect(state.dialFailed(at: failedAt, definitive: false, begunAt: later) == nil)
        #expect(state.dialFailed(at: failedAt, definitive: false, begunAt: later) == .wentDown)
    }

    @Test("drain and maint refuse new sessions whatever the health")
    func adminStates() {
        var state = ServerHealthState()
        state.admin = .drain
        #expect(!state.acceptsNewSessions(at: t0))
        state.admin = .maint
        #expect(!state.acceptsNewSessions(at: t0))
        state.admin = .ready
        #expect(state.acceptsNewSessions(at: t0))
    }
}

@Suite("Keepalive idle deadline")
struct KeepalivePolicyTests {
    let listener = ListenerConfig(
        name: "l", bind: Endpoint(host: "127.0.0.1", port: 0), backend: "b", idleTimeout: .seconds(600),
        keepaliveFactor: 1.5, keepaliveMin: .seconds(10), keepaliveMax: .seconds(7200))

    @Test("keepalive × 1.5, clamped to [min, max]; 0 uses idle_timeout")
    func table() {
        #expect(KeepalivePolicy.idleTimeout(keepAlive: 60, listener: listener) == .seconds(90))
        #expect(KeepalivePolicy.idleTimeout(keepAlive: 240, listener: listener) == .seconds(360))
        #expect(KeepalivePolicy.idleTimeout(keepAlive: 2, listener: listener) == .seconds(10))
        #expect(KeepalivePolicy.idleTimeout(keepAlive: 65535, listener: listener) == .seconds(7200))
        #expect(KeepalivePolicy.idleTimeout(keepAlive: 0, listener: listener) == .seconds(600))
        var never = listener
        never.idleTimeout = .zero
        #expect(KeepalivePolicy.idleTimeout(keepAlive: 0, listener: never) == nil)
        #expect(KeepalivePolicy.idleTimeout(tcpListener: listener) == .seconds(600))
    }

    @Test("any finite keepalive_factor is clamped to keepalive_max without overflowing a Duration")
    func hugeFactor() {
        var huge = listener
        huge.keepaliveFactor = 1e300
        #expect(KeepalivePolicy.idleTimeout(keepAlive: 65535, listener: huge) == .seconds(7200))
        #expect(KeepalivePolicy.idleTimeout(keepAlive: 1, listener: huge) == .seconds(7200))
        huge.keepaliveMax = .nanoseconds(Int64.max)
        #expect(KeepalivePolicy.idleTimeout(keepAlive: 1, listener: huge) == .nanoseconds(Int64.max))
        var tiny = listener
        tiny.keepaliveFactor = 1e-300
        #expect(KeepalivePolicy.idleTimeout(keepAlive: 65535, listener: tiny) == .seconds(10))
    }
}
