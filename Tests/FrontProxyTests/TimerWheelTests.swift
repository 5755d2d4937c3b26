import Testing

@testable import FrontProxy

/// A wheel entry with a fixed or moving deadline, recording when it fired.
private final class Probe: WheelTimed {
    var wheelSlot: Int32 = -1
    var wheelPosition: Int32 = -1
    var deadline: Int64
    var firedAt: Int64?

    init(deadline: Int64) { self.deadline = deadline }

    func wheelTickReached(_ tick: Int64) -> Int64? {
        if tick >= deadline {
            firedAt = tick
            return nil
        }
        return deadline
    }
}

@Suite("Timer wheel")
struct TimerWheelTests {
    @Test("entries fire at their tick, not before")
    func firesOnTime() {
        let wheel = TimerWheel()
        let probes = [3, 10, 10, 50].map { Probe(deadline: Int64($0)) }
        for probe in probes { wheel.schedule(probe, at: probe.deadline) }
        #expect(wheel.count == 4)
        wheel.advance(to: 9)
        #expect(probes.map(\.firedAt) == [3, nil, nil, nil])
        wheel.advance(to: 10)
        #expect(probes.map(\.firedAt) == [3, 10, 10, nil])
        wheel.advance(to: 100)
        #expect(probes[3].firedAt == 50)
        #expect(wheel.count == 0)
    }

    @Test("a deadline moved by activity is filed again and fires later")
    func lazyExtension() {
        let wheel = TimerWheel()
        let probe = Probe(deadline: 5)
        wheel.schedule(probe, at: 5)
        probe.deadline = 12
        wheel.advance(to: 5)
        #expect(probe.firedAt == nil)
        #expect(wheel.count == 1)
        wheel.advance(to: 12)
        #expect(probe.firedAt == 12)
    }

    @Test("deadlines beyond one turn of the wheel wait for their round")
    func beyondOneTurn() {
        let wheel = TimerWheel()
        let far = Probe(deadline: 4096 * 2 + 7)
        wheel.schedule(far, at: far.deadline)
        wheel.advance(to: 4096 + 7)
        #expect(far.firedAt == nil)
        wheel.advance(to: 4096 * 2 + 7)
        let expected: Int64 = 4096 * 2 + 7
        #expect(far.firedAt == expected)
    }

    @Test("cancel removes in O(1) and keeps the other entries' positions right")
    func cancel() {
        let wheel = TimerWheel()
        let probes = (0..<5).map { _ in Probe(deadline: 8) }
        for probe in probes { wheel.schedule(probe, at: 8) }
        wheel.cancel(probes[1])
        wheel.cancel(probes[4])
        wheel.cancel(probes[1])  // twice is harmless
        #expect(wheel.count == 3)
        wheel.advance(to: 8)
        #expect(probes.map { $0.firedAt != nil } == [true, false, true, true, false])
    }

    @Test("a burst's storage is given back when its entries are cancelled or fired (no growth under churn)")
    func storageFollowsLoad() {
        let wheel = TimerWheel()
        // A connect burst: 5,000 deadlines in one slot, all cancelled (sessions that got through).
        let burst = (0..<5000).map { _ in Probe(deadline: 50) }
        for probe in burst { wheel.schedule(probe, at: 50) }
        #expect(wheel.storageCapacity >= 5000)
        for probe in burst { wheel.cancel(probe) }
        #expect(wheel.storageCapacity == 0)
        // Bursts spread over a whole turn of the wheel, half fired and half cancelled.
        for round in 0..<8 {
            let base = Int64(round) * 600
            let probes = (0..<3000).map { Probe(deadline: base + 10 + Int64($0 % 500)) }
            for probe in probes { wheel.schedule(probe, at: probe.deadline) }
            for probe in probes.prefix(1500) { wheel.cancel(probe) }
            wheel.advance(to: base + 600)
            #expect(wheel.count == 0)
        }
        #expect(wheel.storageCapacity == 0)
    }

    @Test("ticks round durations up, at least one tick")
    func ticks() {
        #expect(TimerWheel.ticks(for: .milliseconds(1)) == 1)
        #expect(TimerWheel.ticks(for: .milliseconds(100)) == 1)
        #expect(TimerWheel.ticks(for: .milliseconds(101)) == 2)
        #expect(TimerWheel.ticks(for: .seconds(3)) == 30)
        #expect(TimerWheel.ticks(for: .zero) == 1)
        // At the config parser's limit (Int64 nanoseconds) and beyond: no overflow trap.
        #expect(TimerWheel.ticks(for: .nanoseconds(Int64.max)) == 92_233_720_369)
        #expect(TimerWheel.ticks(for: .seconds(Int64.max)) == 184_467_440_738)
        #expect(TimerWheel.ticks(for: .seconds(7 * 86_400)) == 6_048_000)
    }
}
