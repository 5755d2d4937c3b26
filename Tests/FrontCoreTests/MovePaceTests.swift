import FrontCore
import Testing

@Suite("Move pace")
struct MovePaceTests {
    /// Runs ticks `gaps` (seconds) apart at `rate`, beginning every move allowed: each tick's time
    /// and moves.
    func run(_ gaps: [Double], rate: Double) -> [(time: Double, moves: Int)] {
        var pace = MovePace()
        var now = 0.0
        return gaps.map { gap in
            now += gap
            let budget = pace.budget(rate: rate, now: now)
            pace.began(budget)
            return (now, budget)
        }
    }

    /// The most moves begun in any `window` seconds.
    func busiest(_ ticks: [(time: Double, moves: Int)], window: Double) -> Int {
        ticks.indices.map { start in
            ticks[start...].prefix { $0.time - ticks[start].time < window - 1e-9 }.reduce(0) { $0 + $1.moves }
        }.max() ?? 0
    }

    @Test("steady 10 ms ticks at 500/s begin 5 moves each, 500 a second; no 100 ms holds more than 1.2× the rate")
    func steady() {
        let ticks = run(Array(repeating: 0.01, count: 101), rate: 500)
        #expect(ticks.dropFirst().allSatisfy { (4...6).contains($0.moves) }, "\(ticks.map(\.moves))")
        #expect(abs(ticks.reduce(0) { $0 + $1.moves } - 500) <= 1)
        #expect(busiest(ticks, window: 0.1) <= 60)
    }

    @Test("late ticks are made up smoothly: no 100 ms holds more than 1.3× the rate (65 at 500/s)")
    func stallsAreMadeUp() {
        var gaps: [Double] = []
        for round in 0..<400 { gaps.append(round % 20 == 0 ? 0.08 : 0.01) }
        let ticks = run(gaps, rate: 500)
        #expect(busiest(ticks, window: 0.1) <= 65)
        let total = Double(ticks.reduce(0) { $0 + $1.moves })
        let seconds = gaps.reduce(0, +)
        // A third of the time lost to stalls, and still 80 % of the rate over the whole run.
        #expect(total >= 0.8 * 500 * seconds, "\(total) in \(seconds) s")
    }

    @Test("a long stall earns no burst; rate 0 is every one at once")
    func noBurst() {
        var pace = MovePace()
        #expect(pace.budget(rate: 500, now: 0) == 0)
        #expect(pace.budget(rate: 500, now: 5) == 10)
        pace.began(10)
        #expect(pace.budget(rate: 500, now: 5.01) == 5)
        var unpaced = MovePace()
        #expect(unpaced.budget(rate: 0, now: 0) == Int.max)
    }

    @Test("a rate below one per tick still moves, one at a time")
    func slowRate() {
        let ticks = run(Array(repeating: 0.01, count: 201), rate: 10)
        #expect(ticks.allSatisfy { $0.moves <= 1 })
        #expect(abs(ticks.reduce(0) { $0 + $1.moves } - 20) <= 1)
    }
}
