import FrontConfig
import FrontTesting
import Testing

/// Graceful stop: listeners close at once; with `move_rate: 0` open sessions relay up to `drain_timeout`
/// and then move all at once; then `run()` returns. (Paced moves: ``EvacuationTests``.)
@Suite("Drain on shutdown")
struct DrainTests {
    @Test("shutdown with drain_timeout 1s and one open session", arguments: Shell.allCases)
    func drain(shell: Shell) async throws {
        try await withMosquitto { broker in
            // `move_rate: 0`: sessions relay through the drain and move all at once at its end.
            var config = TestConfig.mqttFront(ports: [broker.port]) { _ in
            } backend: {
                $0.moveRate = 0
            }.on(shell)
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
                let refused = await Self.refuses(port: port, within: .seconds(3))
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
                #expect(line?["reason"] == "moved" && line?["cause"] == "shutdown", "\(String(describing: line))")
                await client.close()
            }
        }
    }

    @Test(
        "during the drain the admin plane answers and health checks go on; a reload is refused; a check stuck on a silent server holds up neither the listener's close nor the stop",
        arguments: Shell.allCases)
    func drainKeepsControlPlane(shell: Shell) async throws {
        try await withMosquitto { broker in
            // Accepts (in the kernel's queue) and never answers: its check always waits out its timeout.
            let silent = try SilentListener(backlog: 128)
            defer { silent.close() }
            let config = TestConfig.front(
                listeners: [TestConfig.mqttListener()],
                backends: [
                    TestConfig.backend(ports: [broker.port]) {
                        $0.healthCheck = HealthCheckConfig(
                            type: .mqtt, interval: .milliseconds(200), timeout: .seconds(2), rise: 1, fall: 1)
                        $0.moveRate = 0  // the session stays through the drain
                    },
                    TestConfig.backend(name: "silent", ports: [silent.port]) {
                        $0.healthCheck = HealthCheckConfig(
                            type: .mqtt, interval: .milliseconds(100), timeout: .seconds(30), rise: 1, fall: 1)
                    },
                ], admin: true, drainTimeout: .seconds(8)
            ).on(shell)
            try await withFront(config) { front in
                let port = try front.port()
                let adminPort = try #require(front.runner.adminPort)
                func checks() -> Double {
                    front.metric("brokerfront_health_checks_total", ["backend": "brokers"]) ?? 0
                }
                #expect(await Poll.until(timeout: .seconds(10)) { checks() >= 1 })
                let (client, code) = try await MQTTTestClient.connect(port: port, clientID: "drain-plane")
                #expect(code == 0)

                let stopAsked = ContinuousClock.now
                await front.runner.shutdown()
                let refused = await Self.refuses(port: port, within: .seconds(3))
                #expect(refused, "the listener still accepted after shutdown")
                #expect(await client.connection.closedAt() == nil, "the session was closed before the drain")

                // The drain runs (8 s: long enough that a test process stalled by the rest of the suite still
                // looks during it): the operator still sees it, and checks still run.
                let status = try await HTTPTestClient.get(port: adminPort, path: "/status")
                #expect(status.status == 200)
                #expect(try JSONValue.parse(status.body)["draining"] == .bool(true), "\(status.body)")
                let listed = try JSONValue.parse(try await HTTPTestClient.get(port: adminPort, path: "/sessions").body)
                // A stall past drain_timeout (8 s) would end the session first: the elapsed time tells.
                #expect(listed["total"]?.number == 1, "\(listed), \(ContinuousClock.now - stopAsked) after the stop")
                let checksThen = checks()
                #expect(
                    await Poll.until(timeout: .seconds(2)) { checks() > checksThen }, "no check ran during the drain")
                let reload = await front.runner.reloader.reload(with: config)
                if case .failed(let reason) = reload {
                    #expect(reason.contains("shutting down"), "\(reason)")
                } else {
                    Issue.record("a reload during the drain gave \(reload)")
                }
                #expect(
                    await Self.refuses(port: port, within: .milliseconds(300)),
                    "the refused reload bound the listener again")

                // The session ends at drain_timeout; then the stop does not wait for the silent
                // server's check (30 s timeout).
                #expect(await client.connection.waitForClose(timeout: .seconds(12)))
                #expect(await front.waitUntilStopped(timeout: .seconds(5)), "run() did not return")
                let stoppedAfter = ContinuousClock.now - stopAsked
                #expect(stoppedAfter < .seconds(15), "stopped \(stoppedAfter) after the request")
                let line = await front.waitForSessionClosed(matching: ["client_id": "drain-plane"])
                #expect(line?["reason"] == "moved" && line?["cause"] == "shutdown", "\(String(describing: line))")
                await client.close()
            }
        }
    }

    /// Whether a connect to `port` is refused within `timeout` (a probe that connects is closed).
    static func refuses(port: Int, within timeout: Duration) async -> Bool {
        await Poll.until(timeout: timeout) {
            guard let probe = try? await TestClient.connect(port: port) else { return true }
            await probe.close()
            return false
        }
    }
}
