import FrontBench
import FrontTesting
import Testing

/// The reconnecting mode against a server that ends sessions with DISCONNECT 0x9C: counts, not speed.
@Suite struct ReconnectLoopbackTests {
    private func options(port: Int) throws -> LoadOptions {
        var options = LoadOptions()
        options.target = BenchEndpoint(host: "127.0.0.1", port: port)
        options.connections = 10
        options.client.version = .v5
        options.client.keepAlive = 0
        options.client.willTopicPrefix = "storm"
        options.reconnect = try ReconnectBackoff(minimumSeconds: 0.01, maximumSeconds: 0.04)
        options.holdSeconds = 1.5
        options.progressSeconds = 0
        options.durationSeconds = 20
        return options
    }

    /// Ten clients against a ``KickingBroker`` that ends each first session 300 ms after its CONNACK.
    private func run(refuseAfterKicks: Bool) async throws -> BenchReport {
        let broker = try await KickingBroker.start(
            kicks: 10, after: .milliseconds(300), refuseAfterKicks: refuseAfterKicks)
        let options = try options(port: broker.port)
        let report = try await OwnThread.run {
            try LoadRunner(options: options, progress: ProgressPrinter(inPlace: false)).run()
        }
        await broker.stop()
        return report
    }

    @Test func closedSessionsReconnectAndSettle() async throws {
        let report = try await run(refuseAfterKicks: false)
        #expect(report.connected == 10)
        #expect(report.reconnect.closed == 10)
        #expect(report.reconnect.disconnect9C == 10)
        #expect(report.reconnect.disconnect8B == 0)
        #expect(report.reconnect.reconnects == 10)
        #expect(report.reconnect.reconnectFailed == 0)
        #expect((1...10).contains(report.reconnect.peakConnects100ms))
        let settle = try #require(report.reconnect.settleSeconds)
        #expect(settle > 0 && settle < 1.5)
        #expect(report.reconnect.wills == nil)
        #expect(report.resultLine.contains(" closed=10 reconnects=10 reconnect_failed=0 "))
    }

    @Test func failedReconnectsBackOffAndNeverSettle() async throws {
        let report = try await run(refuseAfterKicks: true)
        #expect(report.connected == 10)
        #expect(report.failed == 0)  // reconnect failures are not first-connect failures
        #expect(report.reconnect.closed == 10)
        #expect(report.reconnect.reconnects == 0)
        // Over ~1.2 s with ceilings 10, 20, 40, 40, ... ms, each client tries well over ten times.
        #expect(report.reconnect.reconnectFailed >= 100)
        #expect(report.reconnect.settleSeconds == nil)
        #expect(report.resultLine.contains(" settle_s=- "))
    }
}
