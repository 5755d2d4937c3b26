import FrontCore
import Testing

@Suite("Saturating sum of caps")
struct SaturatingSumTests {
    @Test("adds the positive values; Int.max when the sum would not fit")
    func sums() {
        #expect([1, 2, 3].saturatingSum() == 6)
        #expect([Int]().saturatingSum() == 0)
        #expect([5, -7, 0].saturatingSum() == 5)
        #expect([Int.max, 1].saturatingSum() == Int.max)
        #expect([Int.max / 2 + 1, Int.max / 2 + 1].saturatingSum() == Int.max)
    }
}
