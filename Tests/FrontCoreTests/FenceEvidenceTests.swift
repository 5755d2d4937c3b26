import FrontConfig
import Testing

@testable import FrontCore

/// The split-brain fence against passive evidence, an operator's failback, and state carried over a
/// reload, with an injected clock.
@Suite("Fence evidence and carried state")
struct FenceEvidenceTests {
    let t0 = MonotonicTime(nanoseconds: 10_000_000_000)
    let master = CheckResult(ok: true, duration: .milliseconds(1), message: "role:master")
    let slave = CheckResult(ok: false, duration: .milliseconds(1), message: "role:slave")

    @Test("a master down on a refused dial still counts in the fence for fall × interval after its last pass")
    func fenceWindow() {
        var state = ServerHealthState(rise: 2, fall: 3)
        _ = state.checkCompleted(master, at: t0)
        #expect(state.dialFailed(at: t0.adding(.milliseconds(100))) == .wentDown)
        let window = Duration.seconds(3)
        #expect(state.countsInFence(at: t0.adding(.milliseconds(2999)), window: window))
        #expect(!state.countsInFence(at: t0.adding(.seconds(3)), window: window))
        // A pass while it is still down (rise not reached) keeps it counting.
        _ = state.checkCompleted(master, at: t0.adding(.seconds(2)))
        #expect(state.operational == .down)
        #expect(state.countsInFence(at: t0.adding(.seconds(4)), window: window))
        state.admin = .drain
        #expect(!state.countsInFence(at: t0.adding(.seconds(4)), window: window))
    }

    @Test("policy: the current master held while it counts in the fence; once it no longer does, the other takes over")
    func holdWhileClaiming() {
        var policy = FailoverPolicy(activePassive: true, failback: .manual, fence: true)
        let isBackup = [false, false]
        _ = policy.reevaluate(usable: [false, true], isBackup: isBackup)
        #expect(policy.current == 1)
        _ = policy.reevaluate(usable: [true, true], isBackup: isBackup)
        #expect(policy.reevaluate(usable: [true, false], isBackup: isBackup, claims: [true, true]) == [])
        #expect(policy.current == 1 && !policy.inConflict)
        #expect(
            policy.reevaluate(usable: [true, false], isBackup: isBackup, claims: [true, false]) == [
                .failover(from: 1, to: 0)
            ])
    }

    @Test("policy: with the current master gone, two that count in the fence are a conflict even if one is down")
    func conflictCountsClaimants() {
        var policy = FailoverPolicy(activePassive: true, failback: .auto, fence: true)
        let isBackup = [false, false, false]
        _ = policy.reevaluate(usable: [true, false, false], isBackup: isBackup)
        #expect(
            policy.reevaluate(usable: [false, true, false], isBackup: isBackup, claims: [false, true, true]) == [
                .failover(from: 0, to: nil), .conflict(candidates: [1, 2]),
            ])
        #expect(
            policy.reevaluate(usable: [false, true, false], isBackup: isBackup, claims: [false, true, false]) == [
                .activated(to: 1)
            ])
    }

    @Test("operator failback while two claim master: refused, nothing changes")
    func failbackRefusedUnderSplitBrain() {
        var policy = FailoverPolicy(activePassive: true, failback: .manual, fence: true)
        let isBackup = [false, false]
        _ = policy.reevaluate(usable: [false, true], isBackup: isBackup)
        _ = policy.reevaluate(usable: [true, true], isBackup: isBackup)
        let before = policy
        #expect(
            policy.operatorFailback(usable: [true, true], isBackup: isBackup) == .failure(.severalClaimMaster([0, 1])))
        #expect(policy == before)
        #expect(
            policy.operatorFailback(usable: [true, false], isBackup: isBackup, claims: [true, true])
                == .failure(
                    .severalClaimMaster([0, 1])))
        #expect(policy.current == 1)
    }

    @Test("carried over a reload: the active server by name, start-up's end; a removed active server makes a failover")
    func carried() {
        var policy = FailoverPolicy(activePassive: true, failback: .manual, fence: false)
        _ = policy.reevaluate(usable: [false, true], isBackup: [false, true])
        #expect(policy.current == 1)
        let grown = policy.carried(
            to: true, failback: .manual, fence: false, names: ["b1", "b2"], newNames: ["b0", "b1", "b2"])
        #expect(grown.current == 2 && grown.settled)
        var shrunk = grown.carried(
            to: true, failback: .manual, fence: false, names: ["b0", "b1", "b2"], newNames: ["b0", "b1"])
        #expect(shrunk.current == nil)
        #expect(
            shrunk.reevaluate(usable: [false, true], isBackup: [false, false], allChecked: false) == [
                .failover(from: nil, to: 1)
            ])
    }

    @Test("a changed check keeps the last known state until its first result, which decides at once either way")
    func carriedHealth() {
        var up = ServerHealthState(rise: 3, fall: 3)
        _ = up.checkCompleted(master, at: t0)
        let carried = ServerHealthState(carrying: up, thresholds: (rise: 3, fall: 3), at: t0)
        #expect(carried.operational == .up && !carried.checked)
        var failing = carried
        #expect(failing.checkCompleted(slave, at: t0.adding(.seconds(1))) == .wentDown)
        var passing = carried
        #expect(passing.checkCompleted(master, at: t0.adding(.seconds(1))) == nil)

        var down = ServerHealthState(rise: 3, fall: 1)
        _ = down.checkCompleted(master, at: t0)
        _ = down.checkCompleted(slave, at: t0.adding(.seconds(1)))
        var returning = ServerHealthState(carrying: down, thresholds: (rise: 3, fall: 1), at: t0)
        #expect(returning.operational == .down)
        #expect(returning.checkCompleted(master, at: t0.adding(.seconds(2))) == .wentUp)
        #expect(returning.upSince == t0.adding(.seconds(2)))
        // No check any more: a server that was down gets a trial dial at once.
        let passive = ServerHealthState(carrying: down, thresholds: nil, at: t0)
        #expect(!passive.isChecked && passive.acceptsNewSessions(at: t0))
    }
}
