import FrontTesting
import Testing

/// Graceful stop: listeners close at once, open sessions get up to `drain_timeout`, then `run()` returns.
@Suite("Drain on shutdown")
struct DrainTests {
    @Test("shutdown with drain_timeout 1s and one open session")
    func drain() async throws {
        try await withMosquitto { broker in
            var config = TestConfig.mqttFront(ports: [broker.port])
            config.drainTimeout = .seconds(1)
            try await withFront(config) { front in
                let port = try front.port()
                let (client, code) = try await MQTTTestClient.connect(port: port, clientID: "drain-1")
                #expect(code == 0)

                let stopAsked = ContinuousClock.now
                await front.runner.shutdown()
                // The listening socket closes first, while the session drains: new connections are
                // refused and the session is still open. (The shutdown runs on the test process's
                // busy task pool: its start is not timed here, only its order and the drain.)
                let refused = await Poll.until(timeout: .seconds(3)) {
                    guard let probe = try? await TestClient.connect(port: port) else { return true }
                    await probe.close()
                    return false
                }
                let refusedAfter = ContinuousClock.now - stopAsked
                #expect(refused, "the listener still accepted after shutdown")
                #expect(await client.connection.closedAt() == nil, "the session was closed before the drain")

                #expect(await client.connection.waitForClose(timeout: .seconds(5)))
                let closedAfter = await client.connection.closedAt().map { $0 - stopAsked }
                if let closedAfter {
                    // drain_timeout 1s from the listener's close.
                    #expect(closedAfter >= .milliseconds(900), "closed \(closedAfter) after shutdown")
                    #expect(
                        closedAfter <= refusedAfter + .milliseconds(2_500),
                        "closed \(closedAfter) after shutdown, refused after \(refusedAfter)")
                }
                #expect(await front.waitUntilStopped(timeout: .seconds(3)), "run() did not return")
                let line = await front.waitForSessionClosed(matching: ["client_id": "drain-1"])
                #expect(line?["reason"] == "shutdown")
                await client.close()
            }
        }
    }
}
