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
                // The listening socket closes at once: new connections are refused.
                let refused = await Poll.until(timeout: .milliseconds(500)) {
                    guard let probe = try? await TestClient.connect(port: port) else { return true }
                    await probe.close()
                    return false
                }
                #expect(refused, "the listener still accepted after shutdown")
                #expect(await client.connection.closedAt() == nil, "the session was closed before the drain")

                #expect(await client.connection.waitForClose(timeout: .seconds(3)))
                let closedAfter = await client.connection.closedAt().map { $0 - stopAsked }
                if let closedAfter {
                    #expect(closedAfter >= .milliseconds(900), "closed \(closedAfter) after shutdown")
                    #expect(closedAfter <= .milliseconds(2_500), "closed \(closedAfter) after shutdown")
                }
                #expect(await front.waitUntilStopped(timeout: .seconds(3)), "run() did not return")
                let line = await front.waitForSessionClosed(matching: ["client_id": "drain-1"])
                #expect(line?["reason"] == "shutdown")
                await client.close()
            }
        }
    }
}
