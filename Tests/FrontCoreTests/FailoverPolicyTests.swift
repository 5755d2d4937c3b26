import FrontConfig
import Testing

@testable import FrontCore

@Suite("Failover policy")
struct FailoverPolicyTests {
    // Servers: 0 primary, 1 secondary (both active), 2 backup.
    let isBackup = [false, false, true]

    @Test("active-passive: first usable in list order; losing it fails over; auto failback returns")
    func activePassiveAuto() {
        var policy = FailoverPolicy(activePassive: true, failback: .auto, fence: false)
        #expect(policy.reevaluate(usable: [true, true, true], isBackup: isBackup) == [.activated(to: 0)])
        #expect(policy.reevaluate(usable: [false, true, true], isBackup: isBackup) == [.failover(from: 0, to: 1)])
        #expect(policy.reevaluate(usable: [false, false, true], isBackup: isBackup) == [.failover(from: 1, to: 2)])
        #expect(policy.current == 2)
        #expect(policy.reevaluate(usable: [true, false, true], isBackup: isBackup) == [.failback(from: 2, to: 0)])
        #expect(policy.reevaluate(usable: [false, false, false], isBackup: isBackup) == [.failover(from: 0, to: nil)])
        #expect(policy.current == nil)
    }

    @Test("manual failback keeps traffic on the backup until an operator asks or the backup fails")
    func manualFailback() {
        var policy = FailoverPolicy(activePassive: true, failback: .manual, fence: false)
        _ = policy.reevaluate(usable: [true, false, true], isBackup: isBackup)
        #expect(policy.reevaluate(usable: [false, false, true], isBackup: isBackup) == [.failover(from: 0, to: 2)])
        #expect(
            policy.reevaluate(usable: [true, false, true], isBackup: isBackup) == [
                .failbackHeld(current: 2, waiting: 0)
            ])
        #expect(policy.reevaluate(usable: [true, false, true], isBackup: isBackup) == [])  // noted once
        #expect(policy.current == 2)
        #expect(
            policy.operatorFailback(usable: [true, false, true], isBackup: isBackup)
                == .success([
                    .failback(from: 2, to: 0)
                ]))
        #expect(policy.current == 0)
        // The backup failing also ends the hold.
        _ = policy.reevaluate(usable: [false, false, true], isBackup: isBackup)
        #expect(policy.reevaluate(usable: [true, false, false], isBackup: isBackup) == [.failover(from: 2, to: 0)])
    }

    @Test("fence: keeps the current master while it claims master, even if another does too")
    func fenceKeepsCurrent() {
        var policy = FailoverPolicy(activePassive: true, failback: .auto, fence: true)
        #expect(policy.reevaluate(usable: [true, false], isBackup: [false, false]) == [.activated(to: 0)])
        #expect(policy.reevaluate(usable: [false, true], isBackup: [false, false]) == [.failover(from: 0, to: 1)])
        // The old primary comes back claiming master too: two masters, traffic stays on 1.
        #expect(
            policy.reevaluate(usable: [true, true], isBackup: [false, false]) == [.failbackHeld(current: 1, waiting: 0)]
        )
        #expect(policy.current == 1)
    }

    @Test("fence: the active lost while two claim master refuses until exactly one does")
    func fenceConflict() {
        var policy = FailoverPolicy(activePassive: true, failback: .auto, fence: true)
        _ = policy.reevaluate(usable: [true, false, false], isBackup: [false, false, false])
        #expect(
            policy.reevaluate(usable: [false, true, true], isBackup: [false, false, false]) == [
                .failover(from: 0, to: nil), .conflict(candidates: [1, 2]),
            ])
        #expect(policy.current == nil && policy.inConflict)
        #expect(policy.reevaluate(usable: [false, true, true], isBackup: [false, false, false]) == [])
        #expect(
            policy.reevaluate(usable: [false, false, true], isBackup: [false, false, false]) == [.activated(to: 2)])
        #expect(!policy.inConflict)
    }

    @Test("fence: at start-up the first master is chosen only once every server was checked")
    func fenceSettlesAtStart() {
        var policy = FailoverPolicy(activePassive: true, failback: .auto, fence: true)
        #expect(policy.reevaluate(usable: [true, false], isBackup: [false, false], allChecked: false) == [])
        #expect(policy.current == nil)
        #expect(
            policy.reevaluate(usable: [true, true], isBackup: [false, false], allChecked: true) == [
                .conflict(candidates: [0, 1])
            ])
        var single = FailoverPolicy(activePassive: true, failback: .auto, fence: true)
        _ = single.reevaluate(usable: [false, true], isBackup: [false, false], allChecked: false)
        #expect(
            single.reevaluate(usable: [false, true], isBackup: [false, false], allChecked: true) == [.activated(to: 1)])
    }

    @Test("active-passive without a fence: start-up also waits for every server's first check, then takes the priority")
    func activePassiveSettlesAtStart() {
        var policy = FailoverPolicy(activePassive: true, failback: .manual, fence: false)
        #expect(policy.reevaluate(usable: [false, false, true], isBackup: isBackup, allChecked: false) == [])
        #expect(policy.current == nil)
        #expect(
            policy.reevaluate(usable: [true, false, true], isBackup: isBackup, allChecked: true) == [.activated(to: 0)])
    }

    @Test("tiers: backups only when no active is usable; auto failback; manual holds")
    func tiers() {
        var auto = FailoverPolicy(activePassive: false, failback: .auto, fence: false)
        #expect(auto.reevaluate(usable: [true, true, true], isBackup: isBackup) == [])
        #expect(auto.reevaluate(usable: [false, false, true], isBackup: isBackup) == [.failover(from: nil, to: 2)])
        #expect(auto.onBackupTier)
        #expect(auto.reevaluate(usable: [false, true, true], isBackup: isBackup) == [.failback(from: nil, to: 1)])
        #expect(!auto.onBackupTier)

        var manual = FailoverPolicy(activePassive: false, failback: .manual, fence: false)
        _ = manual.reevaluate(usable: [false, false, true], isBackup: isBackup)
        #expect(
            manual.reevaluate(usable: [true, false, true], isBackup: isBackup) == [
                .failbackHeld(current: 2, waiting: 0)
            ])
        #expect(manual.onBackupTier)
        #expect(
            manual.operatorFailback(usable: [true, false, true], isBackup: isBackup)
                == .success([
                    .failback(from: nil, to: 0)
                ]))
        #expect(!manual.onBackupTier)
    }
}

@Suite("Active check state machine")
struct CheckStateTests {
    let t0 = MonotonicTime(nanoseconds: 1_000_000_000)
    let pass = CheckResult(ok: true, duration: .milliseconds(1), message: "role:master")
    let fail = CheckResult(ok: false, duration: .milliseconds(1), message: "role:slave")

    @Test("starts down; the first pass brings it up; later flips need rise/fall in a row")
    func riseFall() {
        var state = ServerHealthState(rise: 2, fall: 3)
        #expect(state.operational == .down)
        #expect(!state.acceptsNewSessions(at: t0))
        #expect(state.checkCompleted(pass) == .wentUp)
        #expect(state.checkCompleted(fail) == nil)
        #expect(state.checkCompleted(fail) == nil)
        #expect(state.checkCompleted(pass) == nil)  // the run of failures is broken
        #expect(state.checkCompleted(fail) == nil)
        #expect(state.checkCompleted(fail) == nil)
        #expect(state.checkCompleted(fail) == .wentDown)
        #expect(state.checkCompleted(pass) == nil)
        #expect(state.checkCompleted(pass) == .wentUp)
        #expect(state.lastCheck == pass)
    }

    @Test("a first failing check keeps it down until rise passes")
    func firstFailure() {
        var state = ServerHealthState(rise: 2, fall: 1)
        #expect(state.checkCompleted(fail) == nil)
        #expect(state.checkCompleted(pass) == nil)
        #expect(state.checkCompleted(pass) == .wentUp)
    }

    @Test("a failed dial takes a checked server down at once; only checks bring it back")
    func fastDown() {
        var state = ServerHealthState(rise: 2, fall: 3)
        _ = state.checkCompleted(pass)
        #expect(state.dialFailed(at: t0) == .wentDown)
        #expect(!state.acceptsNewSessions(at: t0.adding(.seconds(60))))  // no passive trials
        #expect(state.dialSucceeded() == nil)
        #expect(state.checkCompleted(pass) == nil)
        #expect(state.checkCompleted(pass) == .wentUp)
    }

    @Test("maint pauses checks; drain keeps them")
    func adminPausesChecks() {
        var state = ServerHealthState(rise: 1, fall: 1)
        state.admin = .drain
        #expect(state.checksEnabled)
        state.admin = .maint
        #expect(!state.checksEnabled)
    }
}
