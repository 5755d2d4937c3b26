import Testing

@testable import FrontCore

/// Moving a monotonic time forward and back saturates instead of wrapping.
@Suite("MonotonicTime")
struct MonotonicTimeTests {
    @Test("adding and subtracting move by the duration and stop at the ends; a negative duration subtracts nothing")
    func saturatingArithmetic() {
        let t = MonotonicTime(nanoseconds: 5_000_000_000)
        #expect(t.subtracting(.seconds(2)).nanoseconds == 3_000_000_000)
        #expect(t.subtracting(.seconds(2)).adding(.seconds(2)) == t)
        #expect(t.subtracting(.seconds(6)).nanoseconds == 0)
        #expect(t.subtracting(.seconds(-1)) == t)
        #expect(MonotonicTime(nanoseconds: .max - 1).adding(.seconds(1)).nanoseconds == .max)
    }
}
