import FrontBench
import Testing

@Suite struct ReconnectBackoffTests {
    @Test func ceilingDoublesPerFailureUpToTheMaximum() throws {
        let backoff = try ReconnectBackoff(minimumSeconds: 0.1, maximumSeconds: 5)
        #expect(backoff.ceilingSeconds(failures: 0) == 0.1)
        #expect(backoff.ceilingSeconds(failures: 1) == 0.2)
        #expect(abs(backoff.ceilingSeconds(failures: 5) - 3.2) < 1e-9)
        #expect(backoff.ceilingSeconds(failures: 6) == 5)
        #expect(backoff.ceilingSeconds(failures: 10_000) == 5)
        #expect(backoff.ceilingSeconds(failures: -3) == 0.1)
    }

    @Test(arguments: [0, 1, 3, 8])
    func delaysStayWithinZeroAndTheCeilingAndSpreadOverIt(failures: Int) throws {
        let backoff = try ReconnectBackoff(minimumSeconds: 0.1, maximumSeconds: 5)
        let ceiling = backoff.ceilingSeconds(failures: failures)
        let delays = (0..<2_000).map { _ in backoff.delaySeconds(failures: failures) }
        #expect(delays.allSatisfy { $0 >= 0 && $0 <= ceiling })
        // Full jitter: the draws cover the range, not a band near the ceiling (each check below fails by
        // chance with a probability under 1e-90 for 2,000 uniform draws; the mean's bound is 7 sigma).
        #expect(delays.contains { $0 < ceiling * 0.1 })
        #expect(delays.contains { $0 > ceiling * 0.9 })
        let mean = delays.reduce(0, +) / Double(delays.count)
        #expect(abs(mean - ceiling / 2) < ceiling * 0.05)
    }

    @Test(arguments: [(0.0, 5.0), (-1.0, 5.0), (0.5, 0.1), (Double.nan, 5.0), (0.1, Double.infinity)])
    func rejectsBadBounds(minimum: Double, maximum: Double) {
        #expect(throws: BenchOptionError.self) {
            try ReconnectBackoff(minimumSeconds: minimum, maximumSeconds: maximum)
        }
    }

    @Test func standardIsTheCommandLineDefault() throws {
        #expect(ReconnectBackoff.standard == (try ReconnectBackoff(minimumSeconds: 0.1, maximumSeconds: 5)))
    }

    @Test func failuresCountOnlyFailedReconnects() {
        #expect(BenchAttempt.first.failuresAfter(.closedByServer) == 0)
        #expect(BenchAttempt.first.failuresAfter(.failed) == 0)
        #expect(BenchAttempt.reconnect(failures: 0).failuresAfter(.failed) == 1)
        #expect(BenchAttempt.reconnect(failures: 4).failuresAfter(.failed) == 5)
        #expect(BenchAttempt.reconnect(failures: 4).failuresAfter(.closedByServer) == 0)
    }
}
