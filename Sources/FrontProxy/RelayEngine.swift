import CEpoll
import FrontCore
import NIOCore
import Synchronization

import class NIOConcurrencyHelpers.ConditionLock
import struct NIOConcurrencyHelpers.NIOLockedValueBox

#if canImport(Glibc)
    import Glibc
#endif

/// One relay thread: established sessions, as two plain non-blocking sockets each, relayed by one
/// level-triggered epoll loop with a shared 64 KiB buffer (and, with `relay_assist`, an assist
/// thread that takes part of large batches: ``RelayAssist``).
///
/// An idle session costs its table entry (about 150 bytes) instead of two SwiftNIO channels; bytes
/// go `recv` → `send` with no copy in between unless the receiver is full, when the rest waits in a
/// per-direction backlog and the sender is not read until it drained (backpressure). A FIN is
/// passed on as a `shutdown(SHUT_WR)` once the backlog toward that side is written; the session
/// ends when both sides finished, on an error, or on request. Plain-TCP listeners' sessions are
/// accepted and driven here from accept to close (``RelayDrive``: the session machine, its books and
/// a deadline on the thread's ``TimerWheel``); a session changes threads only as a whole (`relay_spread`).
final class RelayEngine: @unchecked Sendable {
    enum Command {
        /// A session another relay thread gave up (`relay_spread`).
        case immigrate(RelayedSession)
        /// The front's relay threads, in index order, and how old a session must be to move.
        case spread(peers: [WeakRelayEngine], after: UInt64)
        case close(RelayLink)
        case listen(RelayAcceptor)
        case unlisten(RelayAcceptor, done: @Sendable () -> Void)
        case resumeAccepting(RelayAcceptor)
        /// Closes the sessions of this thread that match, with the reason; tells how many when asked.
        case closeSessions(RelayCloseRequest, counted: (@Sendable (Int) -> Void)?)
        /// A name resolved (or not) for a driven session's dial.
        case resolved(RelayedSession, Result<[SocketAddress], any Error>)
        /// `GET /sessions`: this thread's sessions matching the filter (their count and the first
        /// `keep` in sort order), given on the relay thread.
        case inspectSessions(SessionFilter, keep: Int, @Sendable (RelaySessionsPart) -> Void)
        /// Begins moving up to `upTo` sessions the order selects; tells how many are left.
        case moveSessions(MoveOrder, upTo: Int, @Sendable (MoveTally) -> Void)
        case stop
    }

    let name: String
    /// Its position among the front's relay threads (``RelayLink/owner``).
    let index: Int
    /// The scheduler time slice the thread asks for; zero: the kernel's default.
    let slice: Duration
    /// Sessions relayed by this thread now (read from any thread).
    let sessionCount = Atomic<Int>(0)
    let commands = NIOLockedValueBox<[Command]>([])
    /// Set (under the commands' lock) once the thread took its last commands.
    var stopped = false
    let epollFD: CInt
    let wakeFD: CInt
    let thread = NIOLockedValueBox<pthread_t?>(nil)
    /// Set by the thread once it runs (condition 1); ``start()`` waits for it.
    let started = ConditionLock<Int>(value: 0)
    var sliceOutcome = SliceOutcome.kernelDefault
    /// What the scheduler gave this engine's threads: the relay thread's first, then its assist
    /// thread's; set by ``start()``.
    private(set) var threadSlices: [ThreadSlice] = []

    // Relay thread only.
    var sessions: [RelayedSession?] = []
    var freeSlots: [Int] = []
    let scratch: UnsafeMutableRawBufferPointer
    var now: UInt64 = 0
    /// Listening sockets this thread accepts on, by token index.
    var acceptors: [RelayAcceptor?] = []
    /// Accepted connections whose CONNECT is still arriving, by token index.
    var sniffers: [RawSniffer?] = []
    var freeSniffers: [Int] = []
    /// Sniffers in the table now; with any, or an acceptor backing off, the loop wakes every 100 ms.
    var snifferCount = 0
    var acceptorsBackingOff = 0
    /// When deadlines (sniffers, back-offs) were last looked at.
    var lastTimerCheck: UInt64 = 0
    /// Accepted connections whose CONNECT is settled, to start as driven sessions after this pass.
    var pendingStarts: [RawAccepted] = []
    /// Close requests of the last ``RelayCloseRequest/memory``, for sessions that were moving here
    /// meanwhile, and the number of the last one this thread took.
    var recentCloses: [RelayCloseRequest] = []
    var closesTaken: UInt64 = 0
    /// Deadlines of driven sessions.
    let wheel = TimerWheel()
    /// Sessions being moved off their server, and when their deadlines were last looked at.
    var movingSessions: [RelayedSession] = []
    /// What the last full look found for each move order under way.
    var moveCandidates: [UInt64: MoveCandidates] = [:]
    var lastMoveCheck: UInt64 = 0
    /// Driven sessions over their listener's `accept_rate`, in arrival order.
    var admissionQueue: [RelayDrive] = []
    /// `relay_spread`: the front's relay threads and how old (ns) a session must be to move; 0: off.
    var peers: [WeakRelayEngine] = []
    var spreadAfter: UInt64 = 0
    var lastSpread: UInt64 = 0
    /// How often a thread looks for sessions to give away, and how many at most per look.
    static let spreadInterval: UInt64 = 250_000_000
    static let spreadBatch = 256
    static let wakeToken = UInt64.max
    /// Event tokens of listening sockets and of sniffers carry these bits above the index.
    static let acceptorToken: UInt64 = 1 << 62
    static let snifferToken: UInt64 = 1 << 61
    static let scratchSize = 65_536
    /// The most events one epoll_wait returns.
    static let batchCapacity = 256
    /// `relay_assist`: the thread that takes part of large batches; nil when off.
    let assist: RelayAssist?
    static let readable = EPOLLIN.rawValue
    static let writable = EPOLLOUT.rawValue

    /// An engine with its epoll instance; its thread starts with ``start()`` and asks the scheduler
    /// for `slice` (zero: keeps the kernel's default). With `assist`, a second thread takes part of
    /// each batch of `assistThreshold` events or more (``RelayAssist``).
    init(
        name: String, index: Int = 0, slice: Duration = .zero, assist: Bool = false,
        assistThreshold: Int = RelayAssist.defaultThreshold
    ) throws(RelayEngineError) {
        self.name = name
        self.index = index
        self.slice = slice
        self.assist = assist ? RelayAssist(threshold: assistThreshold) : nil
        let epoll = epoll_create1(CInt(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw RelayEngineError(call: "epoll_create1", errno: errno) }
        let wake = eventfd(0, CInt(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wake >= 0 else {
            let code = errno
            Glibc.close(epoll)
            throw RelayEngineError(call: "eventfd", errno: code)
        }
        var event = epoll_event()
        event.events = Self.readable
        event.data.u64 = Self.wakeToken
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event) == 0 else {
            let code = errno
            Glibc.close(wake)
            Glibc.close(epoll)
            throw RelayEngineError(call: "epoll_ctl", errno: code)
        }
        self.epollFD = epoll
        self.wakeFD = wake
        self.scratch = .allocate(byteCount: Self.scratchSize, alignment: 16)
    }

    deinit {
        scratch.deallocate()
        Glibc.close(wakeFD)
        Glibc.close(epollFD)
    }

    /// Starts the relay thread and waits until it runs; returns what became of its time slice.
    ///
    /// - Throws: ``RelayEngineError`` when the thread cannot be created; the engine must not be used.
    @discardableResult
    func start() throws(RelayEngineError) -> SliceOutcome {
        // The thread holds the engine until it returns.
        let id = try Self.spawnThread { self.run() }
        thread.withLockedValue { $0 = id }
        started.lock(whenValue: 1)
        let outcome = sliceOutcome
        started.unlock()
        threadSlices = [ThreadSlice(thread: String(name.prefix(15)), outcome: outcome)]
        if let assist {
            let assistName = "\(name.prefix(13))+a"
            do {
                let assisting = try assist.start(name: assistName, engine: self)
                threadSlices.append(ThreadSlice(thread: assistName, outcome: assisting))
            } catch {
                stop()
                throw error
            }
        }
        return outcome
    }

    /// Ends every session left (reason `shutdown`) and joins the thread.
    func stop() {
        guard let id = Self.takeThread(thread) else { return }
        submit(.stop)
        pthread_join(id, nil)
        assist?.stop()
    }

    // MARK: The relay thread

    func run() {
        _ = c_epoll_name_thread(String(name.prefix(15)))
        let outcome = applySlice()
        started.lock()
        sliceOutcome = outcome
        started.unlock(withValue: 1)
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Self.batchCapacity)
        defer { events.deallocate() }
        while true {
            let count = epoll_wait(epollFD, events, CInt(Self.batchCapacity), waitTimeout)
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            now = MonotonicTime.now().nanoseconds
            var woken = false
            if let assist, Int(count) >= assist.threshold {
                woken = relayShared(UnsafeBufferPointer(start: events, count: Int(count)), with: assist)
            } else {
                for index in 0..<Int(count) where dispatch(events[index].data.u64, events[index].events) {
                    woken = true
                }
            }
            // Commands after the batch: a slot freed above is not reused while stale events for it
            // may still be in the batch.
            if woken, !runCommands() {
                closeAccepting()
                break
            }
            if hasAcceptTimers { checkAcceptTimers() }
            startAccepted()
            if wheel.count > 0 { wheel.advance(to: Self.tick(of: now)) }
            if !admissionQueue.isEmpty { drainAdmissionQueue() }
            if spreadAfter > 0, now >= lastSpread &+ Self.spreadInterval { spreadSessions() }
            if !movingSessions.isEmpty, now >= lastMoveCheck &+ 50_000_000 { checkMoves() }
        }
    }

    /// How long epoll_wait may sleep (ms): accept timers, then spreading; otherwise until an event.
    var waitTimeout: CInt {
        if hasAcceptTimers || wheel.count > 0 || !admissionQueue.isEmpty || !movingSessions.isEmpty { return 100 }
        if spreadAfter > 0, sessionCount.load(ordering: .relaxed) > 0 { return 250 }
        return -1
    }

    /// Applies queued commands; false on `stop`.
    func runCommands() -> Bool {
        var counter: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &counter) { read(wakeFD, $0.baseAddress, 8) }
        let queued = commands.withLockedValue { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        for (position, command) in queued.enumerated() {
            switch command {
            case .immigrate(let session):
                session.link.owner.store(index, ordering: .releasing)
                register(session)
                if let drive = session.drive, !session.isEnded {
                    drive.engine = self
                    arm(drive, drive.machine.deadline)
                    closesMissed(by: drive)
                }
            case .spread(let peers, let after):
                self.peers = peers
                spreadAfter = peers.count > 1 ? after : 0
            case .close(let link):
                guard let session = session(of: link) else {
                    let owner = link.owner.load(ordering: .acquiring)
                    if owner != index {
                        if owner < peers.count { peers[owner].engine?.close(link) }
                    } else if link.slot == RelayLink.inTransit {
                        // On its way here and already queued (ahead of this close's new place).
                        submit(.close(link))
                    }
                    continue
                }
                end(session, reason: nil)
            case .listen(let acceptor):
                startListening(acceptor)
            case .unlisten(let acceptor, let done):
                stopListening(acceptor)
                done()
            case .resumeAccepting(let acceptor):
                resumeListening(acceptor)
            case .closeSessions(let request, let counted):
                let closed = closeSessions(request)
                counted?(closed)
            case .resolved(let session, let result):
                resolved(session, result)
            case .inspectSessions(let filter, let keep, let reply):
                reply(describeSessions(filter, keep: keep))
            case .moveSessions(let order, let limit, let reply):
                reply(moveSessions(order, upTo: limit))
            case .stop:
                for case let session? in sessions { end(session, reason: .shutdown) }
                // Commands behind the stop, and any submitted from now on, are turned away.
                let later = commands.withLockedValue { queue in
                    stopped = true
                    defer { queue.removeAll() }
                    return queue
                }
                for command in queued[(position + 1)...] + later {
                    if case .unlisten(let acceptor, let done) = command {
                        stopListening(acceptor)
                        done()
                    } else {
                        turnAway(command)
                    }
                }
                return false
            }
        }
        return true
    }
}
