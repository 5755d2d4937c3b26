import FrontCore
import Testing

@Suite("Rebalance shares")
struct RebalanceSharesTests {
    @Test("a server that came back holds none: the others' excess over an even share moves")
    func comeBack() {
        #expect(
            RebalanceShares.excess(counts: [150, 150, 0], weights: [1, 1, 1], taking: [true, true, true]) == [
                50, 50, 0,
            ])
    }

    @Test("weights set the shares; shares round up so nothing moves back and forth")
    func weighted() {
        #expect(RebalanceShares.excess(counts: [90, 10], weights: [1, 2], taking: [true, true]) == [56, 0])
        #expect(
            RebalanceShares.excess(counts: [34, 33, 33], weights: [1, 1, 1], taking: [true, true, true]) == [0, 0, 0])
    }

    @Test("a server that takes no sessions keeps none; with none taking, nothing moves")
    func notTaking() {
        #expect(RebalanceShares.excess(counts: [10, 5], weights: [1, 1], taking: [false, true]) == [10, 0])
        #expect(RebalanceShares.excess(counts: [10, 5], weights: [1, 1], taking: [false, false]) == [0, 0])
    }
}
