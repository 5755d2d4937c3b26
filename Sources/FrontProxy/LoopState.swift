import FrontCore
import NIOCore
import Synchronization

/// The per-event-loop home of sessions: their deadlines (one ``TimerWheel``) and the table used to
/// close them all at shutdown. One instance per event loop.
///
/// `@unchecked Sendable`: references travel to other threads only to submit work to `eventLoop`;
/// every member is read and written on `eventLoop` alone (asserted in debug builds).
final class LoopState: @unchecked Sendable {
    let eventLoop: any EventLoop
    let wheel = TimerWheel()
    private var sessions: [ClientSessionHandler] = []
    /// Session handlers of this loop not yet deallocated (any thread: a handler's last reference may
    /// go on another one). Equals the open sessions once closed ones are gone; a test checks that
    /// nothing keeps a finished session alive.
    let handlersAlive = Atomic<Int>(0)
    /// Sessions over their listener's `accept_rate`, in arrival order, per listener name.
    private var admissionQueues: [String: [ClientSessionHandler]] = [:]
    private let origin: MonotonicTime
    private var ticker: RepeatedTask?
    /// Tests replace the clock with a hand-driven tick counter.
    private let manualTick: (() -> Int64)?

    init(eventLoop: any EventLoop, manualTick: (() -> Int64)? = nil) {
        self.eventLoop = eventLoop
        self.origin = MonotonicTime.now()
        self.manualTick = manualTick
    }

    /// Starts the wheel's ticking task. Must run on `eventLoop`.
    func start() {
        eventLoop.assertInEventLoop()
        let interval = TimeAmount.nanoseconds(Int64(TimerWheel.tickNanoseconds))
        ticker = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            wheel.advance(to: tickNow())
            if !admissionQueues.isEmpty { drainAdmissionQueues() }
        }
    }

    /// Stops ticking (at process end).
    func stop() {
        ticker?.cancel()
        ticker = nil
    }

    /// The wheel tick for the real time now. Deadlines are based on it rather than on the wheel's
    /// last processed tick, which lags real time by up to a tick plus the ticker's lateness and would
    /// fire deadlines early. One vDSO clock read per call.
    func tickNow() -> Int64 {
        if let manualTick { return manualTick() }
        return tick(of: MonotonicTime.now())
    }

    /// The wheel tick of a moment (a deadline, a relayed session's last byte).
    func tick(of time: MonotonicTime) -> Int64 {
        Int64(time.since(origin).nanosecondsClamped / TimerWheel.tickNanoseconds)
    }

    /// The time now, on the clock the wheel follows (the start of the hand-driven tick in tests):
    /// what sessions tell their machines.
    func now() -> MonotonicTime {
        guard let manualTick else { return MonotonicTime.now() }
        return origin.adding(.nanoseconds(manualTick() * Int64(TimerWheel.tickNanoseconds)))
    }

    /// Adds a session to the table.
    func register(_ session: ClientSessionHandler) {
        eventLoop.assertInEventLoop()
        session.tablePosition = sessions.count
        sessions.append(session)
    }

    /// Removes a session from the table (O(1)).
    func unregister(_ session: ClientSessionHandler) {
        let position = session.tablePosition
        guard position >= 0, position < sessions.count, sessions[position] === session else { return }
        let last = sessions.count - 1
        if position != last {
            sessions[position] = sessions[last]
            sessions[position].tablePosition = position
        }
        sessions.removeLast()
        session.tablePosition = -1
    }

    /// Queues a session over its listener's accept rate; it is admitted on a later tick.
    func enqueueForAdmission(_ session: ClientSessionHandler) {
        eventLoop.assertInEventLoop()
        admissionQueues[session.listener.config.name, default: []].append(session)
    }

    /// Admits queued sessions, oldest first, while their listener has tokens; drops the ones
    /// that are no longer waiting (timed out, gone).
    private func drainAdmissionQueues() {
        for name in Array(admissionQueues.keys) {
            guard var queue = admissionQueues[name] else { continue }
            var admitted = 0
            while admitted < queue.count {
                let session = queue[admitted]
                guard session.phase == .awaitingAdmission else {
                    session.listener.acceptRate?.leftQueue()
                    admitted += 1
                    continue
                }
                guard session.listener.acceptRate?.tryTake() ?? true else { break }
                session.listener.acceptRate?.leftQueue()
                admitted += 1
                session.admittedFromQueue()
            }
            queue.removeFirst(admitted)
            admissionQueues[name] = queue.isEmpty ? nil : queue
        }
    }

    /// Calls `body` for every session on this loop (which must not add or remove sessions).
    func forEachSession(_ body: (ClientSessionHandler) -> Void) {
        eventLoop.assertInEventLoop()
        for session in sessions { body(session) }
    }

    /// Number of sessions on this loop.
    var sessionCount: Int { sessions.count }
}

/// The ``LoopState`` of every event loop of the proxy's group, found by the loop's identity.
///
/// Built once before any channel exists and never changed.
final class LoopStates: Sendable {
    private let states: [ObjectIdentifier: LoopState]

    init(group: any EventLoopGroup) {
        var states: [ObjectIdentifier: LoopState] = [:]
        for loop in group.makeIterator() {
            states[ObjectIdentifier(loop)] = LoopState(eventLoop: loop)
        }
        self.states = states
    }

    /// The state of `loop`; nil only for a loop outside the group.
    func state(for loop: any EventLoop) -> LoopState? {
        states[ObjectIdentifier(loop)]
    }

    /// Every loop's state, for start/stop/shutdown work submitted to each loop.
    var all: [LoopState] { Array(states.values) }
}
