import Foundation
import FrontTesting
import Synchronization
import Testing

@testable import FrontControl

/// ``StatusHistory`` with an injected clock and reader (no sleeps), and ``MetricTotals``' reading of
/// the registry's text.
@Suite("status history")
struct StatusHistoryTests {
    /// A clock and totals the test moves by hand.
    final class Source: Sendable {
        private let state = Mutex(
            (
                now: Date(timeIntervalSince1970: 1_700_000_000),
                totals: StatusHistory.Totals(sessions: 0, connects: 0, rejected: [:], moved: 0)
            ))

        func history(capacity: Int) -> StatusHistory {
            StatusHistory(capacity: capacity, intervalSeconds: 5, clock: { self.state.withLock { $0.now } }) {
                self.state.withLock { $0.totals }
            }
        }

        /// Moves the clock on `seconds` and the totals by `change`.
        func advance(_ seconds: Double, _ change: (inout StatusHistory.Totals) -> Void) {
            state.withLock { state in
                state.now += seconds
                change(&state.totals)
            }
        }
    }

    @Test("samples are kept oldest first; past capacity the oldest goes, in order, however often it wraps")
    func ringWraps() {
        let source = Source()
        let history = source.history(capacity: 3)
        #expect(history.samples.isEmpty)
        var connects: [Int] = []
        for step in 1...8 {
            source.advance(5) { $0.connects = step * 10 }
            history.sample()
            connects.append(step * 10)
            #expect(history.samples.map(\.connects) == Array(connects.suffix(3)), "after \(step) samples")
        }
        let times = history.samples.map(\.t)
        #expect(times == [1_700_000_030, 1_700_000_035, 1_700_000_040])
    }

    @Test("the 15-minute default: 180 samples 5 s apart, the 181st pushes out the first")
    func defaultCapacity() {
        let source = Source()
        let history = source.history(capacity: 180)
        for _ in 0..<181 {
            source.advance(5) { $0.sessions += 1 }
            history.sample()
        }
        let samples = history.samples
        #expect(samples.count == 180)
        #expect(samples.first?.sessions == 2)
        #expect(samples.last?.sessions == 181)
        #expect((samples.last?.t ?? 0) - (samples.first?.t ?? 0) == 179 * 5)
    }

    @Test("rates come from consecutive totals: growth over the seconds between two samples")
    func ratesFromTotals() {
        let source = Source()
        let history = source.history(capacity: 10)
        history.sample()
        // 5 s: 50 connects, 5 refused for the connection cap, 10 moves.
        source.advance(5) {
            $0.sessions = 45
            $0.connects = 50
            $0.rejected = ["connection_limit": 5]
            $0.moved = 10
        }
        history.sample()
        // 10 s later (a late tick): 20 more connects, 4 refused by rate, 0 moves.
        source.advance(10) {
            $0.connects = 70
            $0.rejected = ["connection_limit": 5, "accept_rate": 4]
        }
        history.sample()
        let samples = history.samples
        func rate(_ pick: (StatusHistory.Sample) -> Int) -> [Double] {
            zip(samples, samples.dropFirst()).map { Double(pick($1) - pick($0)) / Double($1.t - $0.t) }
        }
        #expect(rate(\.connects) == [10, 2])
        #expect(rate { $0.rejected["connection_limit"] ?? 0 } == [1, 0])
        #expect(rate { $0.rejected["accept_rate"] ?? 0 } == [0, 0.4])
        #expect(rate(\.moved) == [2, 0])
        #expect(samples.map(\.sessions) == [0, 45, 45])
    }

    @Test("GET /status/history's document: interval_seconds and samples with t, sessions, connects, rejected, moved")
    func documentShape() throws {
        let source = Source()
        let history = source.history(capacity: 4)
        source.advance(0.9) {
            $0 = StatusHistory.Totals(sessions: 3, connects: 7, rejected: ["client_id": 1], moved: 2)
        }
        history.sample()
        let json = try JSONValue.parse(String(decoding: try JSONEncoder().encode(history.document), as: UTF8.self))
        #expect(json["interval_seconds"]?.number == 5)
        let sample = json["samples"]?[0]
        #expect(sample?["t"]?.number == 1_700_000_000)
        #expect(sample?["sessions"]?.number == 3)
        #expect(sample?["connects"]?.number == 7)
        #expect(sample?["rejected"]?["client_id"]?.number == 1)
        #expect(sample?["moved"]?.number == 2)
    }

    @Test("totals from Prometheus text: connects and moves summed over series, refusals per reason")
    func totalsFromMetrics() {
        let text = """
            # HELP brokerfront_connections_total Connections.
            # TYPE brokerfront_connections_total counter
            brokerfront_connections_total{listener="mqtt"} 12
            brokerfront_connections_total{listener="tls"} 3
            brokerfront_connections_active{listener="mqtt"} 99
            brokerfront_connections_rejected_total{listener="mqtt",reason="connection_limit"} 4
            brokerfront_connections_rejected_total{listener="tls",reason="connection_limit"} 1
            brokerfront_connections_rejected_total{listener="x\\"reason=\\"evil",reason="accept_rate"} 2
            brokerfront_sessions_moved_total{backend="b",server="s1",reason="evacuate"} 5
            brokerfront_sessions_moved_total{backend="b",server="s2",reason="rebalance"} 6
            brokerfront_sessions_moved_total_bogus 100
            brokerfront_connections_total{listener="odd"} NaN
            """
        let totals = MetricTotals.totals(sessions: 8, metrics: text)
        #expect(
            totals
                == StatusHistory.Totals(
                    sessions: 8, connects: 15, rejected: ["connection_limit": 5, "accept_rate": 2], moved: 11))
    }

    @Test("label parsing decodes escapes and keeps an escaped quote inside the value")
    func labels() {
        #expect(MetricTotals.labels(#"{a="x",b="y\"z",c="1\\2"}"#) == ["a": "x", "b": #"y"z"#, "c": #"1\2"#])
        #expect(MetricTotals.labels("") == [:])
    }
}
