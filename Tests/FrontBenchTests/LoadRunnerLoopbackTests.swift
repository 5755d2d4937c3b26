import FrontBench
import FrontTesting
import Testing

/// The load generator against the sink over real loopback sockets: counts, not speed.
@Suite struct LoadRunnerLoopbackTests {
    private func withSink(_ body: (Int) async throws -> Void) async throws {
        let sink = SinkServer(bind: BenchEndpoint(host: "127.0.0.1", port: FreePort.next()))
        let port = try sink.start()
        defer { sink.stop() }
        try await body(port)
    }

    /// Runs the load generator (it blocks until done) off the cooperative pool.
    private func run(_ options: LoadOptions) async throws -> BenchReport {
        try await OwnThread.run { try LoadRunner(options: options, progress: ProgressPrinter(inPlace: false)).run() }
    }

    @Test func holdsSessionsFromRotatedSourcesAndPings() async throws {
        try await withSink { port in
            var options = LoadOptions()
            options.target = BenchEndpoint(host: "127.0.0.1", port: port)
            options.connections = 20
            options.sourceIPs = ["127.0.9.1", "127.0.9.2"]
            options.client.keepAlive = 1
            options.holdSeconds = 1.5
            options.progressSeconds = 0
            options.durationSeconds = 20
            let report = try await run(options)
            #expect(report.connected == 20)
            #expect(report.failed == 0)
            #expect(report.dropped == 0)
            #expect(report.pings >= 20)
            #expect(report.pongs == report.pings)  // the end of the hold waits for answers in flight
            #expect(!report.timedOut)
        }
    }

    @Test(arguments: ["3.1.1", "5"])
    func churnClosesEachSessionAfterConnAck(version: String) async throws {
        try await withSink { port in
            var options = LoadOptions()
            options.target = BenchEndpoint(host: "127.0.0.1", port: port)
            options.connections = 50
            options.concurrency = 5
            options.client.closeAfterConnAck = true
            options.client.version = version == "5" ? .v5 : .v3_1_1
            options.progressSeconds = 0
            options.durationSeconds = 20
            let report = try await run(options)
            #expect(report.connected == 50)
            #expect(report.failed == 0)
            #expect(report.connAckP99Micros > 0)
        }
    }

    @Test func failedConnectsAreCountedNotHung() async throws {
        // Port 1 on loopback: nothing listens, every connect is refused.
        var options = LoadOptions()
        options.target = BenchEndpoint(host: "127.0.0.1", port: 1)
        options.connections = 5
        options.progressSeconds = 0
        options.durationSeconds = 20
        let report = try await run(options)
        #expect(report.connected == 0)
        #expect(report.failed == 5)
        #expect(report.failedConnect == 5)
    }
}
