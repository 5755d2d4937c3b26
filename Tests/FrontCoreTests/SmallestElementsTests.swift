import FrontCore
import Testing

/// ``SmallestElements``: the page selection behind `GET /sessions`.
@Suite("smallest elements")
struct SmallestElementsTests {
    @Test("keeps the k smallest of any order, sorted, with duplicates; k 0 keeps none; k past n keeps all")
    func selection() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let values = (0..<Int.random(in: 0...300, using: &generator)).map { _ in
                Int.random(in: 0...100, using: &generator)
            }
            for capacity in [0, 1, 7, 100, 1000] {
                var selection = SmallestElements<Int>(capacity: capacity, by: <)
                for value in values { selection.offer(value) }
                #expect(selection.sorted() == Array(values.sorted().prefix(capacity)))
                #expect(selection.count == min(capacity, values.count))
            }
        }
    }

    @Test("memory follows k, not n: a million offers keep ten")
    func bounded() {
        var selection = SmallestElements<Int>(capacity: 10, by: <)
        for value in (0..<1_000_000).reversed() { selection.offer(value) }
        #expect(selection.count == 10)
        #expect(selection.sorted() == Array(0..<10))
    }

    @Test("a negative capacity keeps nothing")
    func negative() {
        var selection = SmallestElements<Int>(capacity: -5, by: <)
        selection.offer(1)
        #expect(selection.sorted().isEmpty)
    }
}
