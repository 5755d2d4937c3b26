import Testing

@testable import FrontBench

@Suite struct BenchReportTests {
    private func report() -> BenchReport {
        BenchReport(
            connections: 10, started: 10, connected: 9, failed: 1, failedConnect: 0, failedClosed: 1,
            failedRefused: 0, failedTimeout: 0, droppedInHold: 0, dropped: 0, connectSeconds: 2,
            connAckP50Micros: 1_500, connAckP99Micros: 12_345, connAckMaxMicros: 20_000, holdSeconds: 4,
            published: 100, received: 98, roundTripP50Micros: 250, roundTripP99Micros: 999, roundTripMaxMicros: 1_001,
            publishedTotal: 120, receivedTotal: 118, pings: 3, pongs: 3, elapsedSeconds: 6.25, connectPhaseSeconds: 2.1,
            timedOut: false)
    }

    @Test func resultLineHasStableKeysAndRates() {
        let line = report().resultLine
        #expect(line.hasPrefix("RESULT connections=10 connected=9 failed=1 "))
        #expect(line.contains(" connack_per_s=4.5 "))
        #expect(line.contains(" connack_p50_ms=1.500 connack_p99_ms=12.345 "))
        #expect(line.contains(" msgs_per_s=24.5 "))
        #expect(line.contains(" rtt_p99_ms=0.999 "))
        #expect(line.hasSuffix(" timed_out=0"))
        #expect(!line.contains("\n"))
    }

    @Test func reconnectFieldsComeBeforeElapsedAndShowDashesWhenAbsent() {
        var line = report().resultLine
        #expect(
            line.contains(
                " pongs=3 closed=0 reconnects=0 reconnect_failed=0 settle_s=- peak_connects_100ms=0"
                    + " peak_connect_rate=0 wills=- disconnect_9c=0 disconnect_8b=0 elapsed_s=6.250 timed_out=0"))
        var storm = report()
        storm.reconnect.closed = 1_000
        storm.reconnect.reconnects = 998
        storm.reconnect.reconnectFailed = 7
        storm.reconnect.settleSeconds = 2.5
        storm.reconnect.peakConnects100ms = 123
        storm.reconnect.wills = 0
        storm.reconnect.disconnect9C = 1_000
        line = storm.resultLine
        #expect(
            line.contains(
                " closed=1000 reconnects=998 reconnect_failed=7 settle_s=2.500 peak_connects_100ms=123"
                    + " peak_connect_rate=1230 wills=0 disconnect_9c=1000 disconnect_8b=0 "))
    }

    @Test func progressLineShowsTheIntervalRate() {
        let sample = ProgressSample(
            phase: "hold", elapsedSeconds: 3, connected: 5, failed: 0, active: 5, dropped: 0, received: 300,
            intervalSeconds: 2)
        let line = ProgressPrinter.line(sample, previousReceived: 100)
        #expect(line == "[3.0s] hold connected=5 failed=0 active=5 dropped=0 msgs_per_s=100")
    }
}
