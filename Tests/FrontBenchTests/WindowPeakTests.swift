import FrontBench
import Testing

@Suite struct WindowPeakTests {
    private let ms: UInt64 = 1_000_000

    @Test func countsTheBusiestSlidingWindow() {
        // 3 events early, then 5 inside 90 ms straddling what fixed 100 ms buckets would split.
        let times = [0, 10, 20, 150, 170, 190, 220, 240].map { 1_000 * ms + $0 * ms }
        #expect(WindowPeak.count(of: times, from: 1_000 * ms, windowNanos: 100 * ms) == 5)
    }

    @Test func windowIsHalfOpen() {
        let times = [0, 100 * ms, 200 * ms]
        #expect(WindowPeak.count(of: times, from: 0, windowNanos: 100 * ms) == 1)
        #expect(WindowPeak.count(of: times, from: 0, windowNanos: 100 * ms + 1) == 2)
    }

    @Test func ignoresEventsBeforeTheOriginAndAcceptsAnyOrder() {
        let times = [5 * ms, 1 * ms, 2 * ms, 3 * ms, 50 * ms, 40 * ms]
        #expect(WindowPeak.count(of: times, from: 4 * ms, windowNanos: 100 * ms) == 3)
        #expect(WindowPeak.count(of: times, from: 0, windowNanos: 100 * ms) == 6)
    }

    @Test func emptyInputsGiveZero() {
        #expect(WindowPeak.count(of: [], from: 0, windowNanos: 100 * ms) == 0)
        #expect(WindowPeak.count(of: [1, 2], from: 10, windowNanos: 100 * ms) == 0)
        #expect(WindowPeak.count(of: [1, 2], from: 0, windowNanos: 0) == 0)
    }
}
