import CEpoll
import CoreMetrics
import FrontConfig
import FrontCore
import FrontSession
import MQTTWire
import NIOCore
import Synchronization

import class NIOConcurrencyHelpers.ConditionLock
import struct NIOConcurrencyHelpers.NIOLockedValueBox

#if canImport(Glibc)
    import Glibc
#endif

/// What a session handed to a relay thread and its handler (on the handler's event loop) share.
///
/// `@unchecked Sendable`: the atomics and counters are thread-safe; `slot` is read and written on
/// the relay thread alone.
final class RelayLink: @unchecked Sendable {
    /// Bytes read from the client, and from the server, since the hand-off.
    let clientBytes = Atomic<UInt64>(0)
    let serverBytes = Atomic<UInt64>(0)
    /// CLOCK_MONOTONIC nanoseconds of the last read that counts as activity for the idle timeout;
    /// 0 until the first one after the hand-off.
    let lastActivity = Atomic<UInt64>(0)
    /// `tcp`: bytes either way are activity; MQTT: only the client's (its keepalive).
    let serverBytesAreActivity: Bool
    let bytesIn: Counter
    let bytesOut: Counter
    /// Called once, on the relay thread, when the session is gone: why, or nil when it was closed
    /// on request (``RelayEngine/close(_:)``). Not called when ``endsOn`` is set.
    let ended: @Sendable (CloseReason?) -> Void
    /// Where the end is told instead, batched: the relay thread gathers the sessions of one event
    /// loop that ended in one pass and submits a single task there, which calls `onLoop` for each.
    let endsOn: (loop: any EventLoop, onLoop: @Sendable (CloseReason?) -> Void)?
    /// Where the session is in its engine's table; relay thread only. -1: in none (not yet, or
    /// ended); ``inTransit``: given up by one relay thread and queued to another.
    var slot = -1
    static let inTransit = -2
    /// The index of the relay thread that holds the session (``RelayEngine/index``), or that it is
    /// on its way to (`relay_spread`): the thread giving it up queues it there first and then
    /// points the owner there; the receiving thread points it at itself when it takes it. So a
    /// thread that sees an owner other than itself can pass a request on, and it will be queued
    /// behind the session. A thread reads ``slot`` only while it is the owner.
    let owner = Atomic<Int>(0)

    /// A session that connects from the relay thread (``RelayEngine/adoptDialing(client:dial:link:tracker:)``):
    /// the server's socket finished connecting. Read by the handler's connect deadline.
    let connected = Atomic<Bool>(false)
    /// The server sent its first byte: nothing is replayed any more.
    let answered = Atomic<Bool>(false)
    /// What a dialing session tells its handler; nil for a session adopted established, and let go
    /// once the server answered (and its CONNACK was read). Set before the hand-over, then relay
    /// thread only.
    var dialHooks: RelayDialHooks?

    init(
        serverBytesAreActivity: Bool, bytesIn: Counter, bytesOut: Counter, dialHooks: RelayDialHooks? = nil,
        ended: @escaping @Sendable (CloseReason?) -> Void
    ) {
        self.serverBytesAreActivity = serverBytesAreActivity
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.dialHooks = dialHooks
        self.ended = ended
        self.endsOn = nil
    }

    /// A link whose end is told on `loop` (``endsOn``), batched with the other sessions of that loop.
    init(
        serverBytesAreActivity: Bool, bytesIn: Counter, bytesOut: Counter, dialHooks: RelayDialHooks? = nil,
        endsOn loop: any EventLoop, onLoop: @escaping @Sendable (CloseReason?) -> Void
    ) {
        self.serverBytesAreActivity = serverBytesAreActivity
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.dialHooks = dialHooks
        self.ended = { _ in }
        self.endsOn = (loop, onLoop)
    }
}

/// How a session that connects from a relay thread reports its connect phase.
struct RelayDialHooks: Sendable {
    /// Read the broker's first packet for an MQTT 5 Server Keep Alive.
    var probeServerKeepAlive: Bool
    /// The most client bytes kept for a replay before the server answers; past it, no replay.
    var replayLimit: Int
    /// Called on the relay thread with the broker's Server Keep Alive, when its CONNACK has one.
    var serverKeepAlive: @Sendable (UInt16) -> Void
    /// Called on the relay thread when the server was lost before it answered: the client waits, parked,
    /// for ``RelayEngine/redial(_:_:)``, ``RelayEngine/refuse(_:with:)`` or ``RelayEngine/close(_:)``.
    var lost: @Sendable (RelayDialLoss) -> Void
}

/// Why a dialing session has no server any more (the session machine's ``DialFailure``), with every
/// byte to send to the next one.
struct RelayDialLoss: Sendable, Equatable {
    var failure: DialFailure
    var resend: [UInt8]

    /// The connect failed (errno; ETIMEDOUT when the handler's deadline passed).
    static func failed(errno: CInt, resend: [UInt8]) -> Self {
        Self(failure: DialFailure(errno: errno, stage: .connecting, pickedPort: false), resend: resend)
    }

    /// The server closed or reset before sending a byte.
    static func silent(resend: [UInt8]) -> Self { Self(failure: .closedSilently, resend: resend) }

    /// The connect completed after a failover moved traffic away from the server: closed before a
    /// byte was sent to it (no evidence against it).
    static func superseded(resend: [UInt8]) -> Self { Self(failure: .superseded, resend: resend) }
}

/// A server socket for a session, opened (connect() called) by the handler's loop.
struct RelayServerDial: Sendable {
    /// The non-blocking socket, connected or connecting; the engine owns it from now on.
    var fd: CInt
    /// Whether it is known to be connected (a send already went through).
    var connected: Bool
    /// Every byte meant for this server so far (the PROXY header, the CONNECT, what followed it):
    /// what the next server gets if this one fails before answering.
    var bytes: [UInt8]
    /// How many of `bytes` were sent already.
    var sentCount: Int
    /// Whether the session is still replayed once connected, until the server answers (MQTT with a
    /// retry left); a failed connect is always retried with `bytes`.
    var replayable: Bool
    /// Called on the relay thread when a connect that was in progress completed (passive health);
    /// returns whether the session still goes to this server (a failover may have moved traffic
    /// away while it connected: then it is lost as ``RelayDialLoss/superseded(resend:)``).
    var onConnected: @Sendable () -> Bool = { true }
}

/// One relay thread: established sessions, as two plain non-blocking sockets each, relayed by one
/// level-triggered epoll loop with a shared 64 KiB buffer (and, with `relay_assist`, an assist
/// thread that takes part of large batches: ``RelayAssist``).
///
/// An idle session costs its table entry (about 150 bytes) instead of two SwiftNIO channels; bytes
/// go `recv` → `send` with no copy in between unless the receiver is full, when the rest waits in a
/// per-direction backlog and the sender is not read until it drained (backpressure). A FIN is
/// passed on as a `shutdown(SHUT_WR)` once the backlog toward that side is written; the session
/// ends when both sides finished, on an error, or on request. Deadlines stay with the handler,
/// which reads ``RelayLink/lastActivity``.
final class RelayEngine: @unchecked Sendable {
    private enum Command {
        case adopt(RelayedSession)
        /// A session another relay thread gave up (`relay_spread`).
        case immigrate(RelayedSession)
        /// The front's relay threads, in index order, and how old a session must be to move.
        case spread(peers: [WeakRelayEngine], after: UInt64)
        case dial(RelayedSession, RelayServerDial)
        case redial(RelayLink, RelayServerDial)
        case refuse(RelayLink, [UInt8])
        case abortDial(RelayLink)
        case close(RelayLink)
        case listen(RelayAcceptor)
        case unlisten(RelayAcceptor, done: @Sendable () -> Void)
        case resumeAccepting(RelayAcceptor)
        case endSniffing(CloseReason)
        /// `GET /sessions`: the connections still sending their CONNECT, given on the relay thread.
        case inspectSniffers(@Sendable ([SniffingConnection]) -> Void)
        case stop
    }

    /// What became of the time slice a relay thread asked for (``RelayEngine/init(name:slice:)``).
    enum SliceOutcome: Equatable, Sendable, CustomStringConvertible {
        /// None was asked for (`relay_slice: 0`).
        case kernelDefault
        /// The kernel reports this slice for the thread now.
        case applied(Duration)
        /// The kernel took the request but has no custom slices (Linux before 6.12).
        case unsupported
        /// sched_setattr or sched_getattr failed (errno), or the thread runs in a class without
        /// slices (EINVAL).
        case failed(errno: CInt)

        var description: String {
            switch self {
            case .kernelDefault: "kernel default"
            case .applied(let slice): DurationParser.format(slice)
            case .unsupported: "not supported by this kernel (custom slices need Linux 6.12)"
            case .failed(let code): RelayEngineError(call: "sched_setattr", errno: code).description
            }
        }

        /// One line for `/status`: the outcome every thread shares, or each thread's when they differ
        /// (one refused, say); nil without threads.
        static func summary(_ slices: [ThreadSlice]) -> String? {
            guard let first = slices.first else { return nil }
            if slices.allSatisfy({ $0.outcome == first.outcome }) { return first.outcome.description }
            return slices.map { "\($0.thread): \($0.outcome)" }.joined(separator: "; ")
        }
    }

    /// What the scheduler gave one thread (a relay thread or its assist thread), by thread name.
    struct ThreadSlice: Equatable, Sendable {
        var thread: String
        var outcome: SliceOutcome
    }

    let name: String
    /// Its position among the front's relay threads (``RelayLink/owner``).
    let index: Int
    /// The scheduler time slice the thread asks for; zero: the kernel's default.
    let slice: Duration
    /// Sessions relayed by this thread now (read from any thread).
    let sessionCount = Atomic<Int>(0)
    private let commands = NIOLockedValueBox<[Command]>([])
    /// Set (under the commands' lock) once the thread took its last commands.
    private var stopped = false
    let epollFD: CInt
    private let wakeFD: CInt
    private let thread = NIOLockedValueBox<pthread_t?>(nil)
    /// Set by the thread once it runs (condition 1); ``start()`` waits for it.
    private let started = ConditionLock<Int>(value: 0)
    private var sliceOutcome = SliceOutcome.kernelDefault
    /// What the scheduler gave this engine's threads: the relay thread's first, then its assist
    /// thread's; set by ``start()``.
    private(set) var threadSlices: [ThreadSlice] = []

    // Relay thread only.
    var sessions: [RelayedSession?] = []
    private var freeSlots: [Int] = []
    let scratch: UnsafeMutableRawBufferPointer
    var now: UInt64 = 0
    /// Listening sockets this thread accepts on (`relay_accept`), by token index.
    var acceptors: [RelayAcceptor?] = []
    /// Accepted connections whose CONNECT is still arriving, by token index.
    var sniffers: [RawSniffer?] = []
    var freeSniffers: [Int] = []
    /// Sniffers in the table now; with any, or an acceptor backing off, the loop wakes every 100 ms.
    var snifferCount = 0
    var acceptorsBackingOff = 0
    /// When deadlines (sniffers, back-offs) were last looked at.
    var lastTimerCheck: UInt64 = 0
    /// Accepted connections to hand to event loops after this pass, grouped by loop.
    var pendingAccepts: [(loop: LoopState, items: [RawAccepted])] = []
    /// `relay_spread`: the front's relay threads and how old (ns) a session must be to move; 0: off.
    private var peers: [WeakRelayEngine] = []
    private var spreadAfter: UInt64 = 0
    private var lastSpread: UInt64 = 0
    /// How often a thread looks for sessions to give away, and how many at most per look.
    private static let spreadInterval: UInt64 = 250_000_000
    private static let spreadBatch = 256
    /// Ends to tell on event loops after this pass, grouped by loop (``RelayLink/endsOn``).
    private var pendingEnds: [(loop: any EventLoop, ends: [(RelayLink, CloseReason?)])] = []
    /// Sessions were adopted since the last heap trim (their channels were freed).
    private var trimPending = false
    private var adoptedSinceTrim = 0

    /// CLOCK_MONOTONIC nanoseconds of the last heap trim by any relay thread.
    private static let lastTrim = Atomic<UInt64>(0)
    private static let trimInterval: UInt64 = 1_000_000_000

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

    /// Asks the scheduler for ``slice`` for the calling thread (the relay thread, or its assist
    /// thread, which is woken for a batch just as the relay thread is).
    func applySlice() -> SliceOutcome {
        let nanoseconds = slice.nanosecondsClamped
        guard nanoseconds > 0 else { return .kernelDefault }
        let result = c_epoll_set_slice(nanoseconds)
        switch result {
        case 0: return .unsupported
        case ..<0: return .failed(errno: CInt(-result))
        default: return .applied(.nanoseconds(result))
        }
    }

    /// Ends every session left (reason `shutdown`) and joins the thread.
    func stop() {
        guard let id = Self.takeThread(thread) else { return }
        submit(.stop)
        pthread_join(id, nil)
        assist?.stop()
    }

    /// Takes over an established session: both descriptors (owned from now on; closed when it ends),
    /// and the client's MQTT packet tracker to notice its DISCONNECT.
    func adopt(client: CInt, server: CInt, link: RelayLink, tracker: MQTTStreamTracker?) {
        sessionCount.add(1, ordering: .relaxed)
        link.owner.store(index, ordering: .relaxed)
        submit(.adopt(RelayedSession(client: client, server: server, link: link, tracker: tracker)))
    }

    /// Takes over a session whose server is still being connected to: the client descriptor (owned
    /// from now on; not read until the server is connected and what waits for it is written) and
    /// the server's socket. The link's ``RelayLink/dialHooks`` report the connect phase.
    func adoptDialing(client: CInt, dial: RelayServerDial, link: RelayLink, tracker: MQTTStreamTracker?) {
        sessionCount.add(1, ordering: .relaxed)
        link.owner.store(index, ordering: .relaxed)
        submit(.dial(RelayedSession(client: client, server: dial.fd, link: link, tracker: tracker), dial))
    }

    /// Gives a session that lost its server (``RelayDialHooks/lost``) the socket of the next one.
    func redial(_ link: RelayLink, _ dial: RelayServerDial) {
        submit(.redial(link, dial))
    }

    /// Ends a session that lost its server and has no other: `bytes` (a refusing CONNACK, or
    /// nothing) go to the client first; `link.ended(nil)` follows.
    func refuse(_ link: RelayLink, with bytes: [UInt8]) {
        submit(.refuse(link, bytes))
    }

    /// The connect deadline passed: a session still connecting loses its server
    /// (``RelayDialLoss/failed(errno:resend:)`` with ETIMEDOUT); otherwise nothing happens.
    func abortDial(_ link: RelayLink) {
        submit(.abortDial(link))
    }

    /// Closes a session from outside (admin, failover, drain, idle timeout); `link.ended(nil)` follows.
    /// Any of the front's relay threads may be asked: one that gave the session away passes it on.
    func close(_ link: RelayLink) {
        submit(.close(link))
    }

    /// `relay_spread`: sessions that last `after` move from this thread to the one of `peers` (the
    /// front's relay threads in index order, this one included) with the fewest sessions, while this
    /// one holds more than its share. Call once, after every peer started.
    func spread(to peers: [RelayEngine], after: Duration) {
        submit(.spread(peers: peers.map(WeakRelayEngine.init), after: UInt64(after.nanosecondsClamped)))
    }

    /// Starts accepting on `acceptor`'s listening socket (owned from now on; closed by ``unlisten(_:done:)``).
    func listen(_ acceptor: RelayAcceptor) {
        submit(.listen(acceptor))
    }

    /// Stops accepting on `acceptor` and closes its socket; `done` runs on the relay thread once it is
    /// closed. Connections accepted before go on.
    func unlisten(_ acceptor: RelayAcceptor, done: @escaping @Sendable () -> Void) {
        submit(.unlisten(acceptor, done: done))
    }

    /// Connections still sending their CONNECT are closed with `reason` (by their event loops).
    func endSniffing(_ reason: CloseReason) {
        submit(.endSniffing(reason))
    }

    /// A connection slot freed while `acceptor` waited for one.
    func resumeAccepting(_ acceptor: RelayAcceptor) {
        submit(.resumeAccepting(acceptor))
    }

    /// The connections this thread accepted that are still sending their CONNECT (`relay_accept`);
    /// none once the thread has stopped.
    func sniffingConnections() async -> [SniffingConnection] {
        await withCheckedContinuation { continuation in
            submit(.inspectSniffers { continuation.resume(returning: $0) })
        }
    }

    private func submit(_ command: Command) {
        let (wasEmpty, running) = commands.withLockedValue { queue -> (Bool, Bool) in
            guard !stopped else { return (false, false) }
            defer { queue.append(command) }
            return (queue.isEmpty, true)
        }
        guard running else {
            turnAway(command)
            return
        }
        guard wasEmpty else { return }
        wake()
    }

    /// A command for a stopped thread (any thread): a session handed over now ends at once
    /// (`shutdown`, told as its end always is), sockets it brought are closed, the rest is moot.
    private func turnAway(_ command: Command) {
        switch command {
        case .adopt(let session), .dial(let session, _), .immigrate(let session):
            for side in 0...1 where session[side].fd >= 0 { Glibc.close(session[side].fd) }
            sessionCount.subtract(1, ordering: .relaxed)
            let link = session.link
            if let (loop, onLoop) = link.endsOn {
                loop.execute { onLoop(.shutdown) }
            } else {
                link.ended(.shutdown)
            }
        case .redial(_, let dial):
            Glibc.close(dial.fd)
        case .listen(let acceptor):
            acceptor.closeOnce()
        case .unlisten(let acceptor, let done):
            acceptor.closeOnce()
            done()
        case .inspectSniffers(let reply):
            reply([])
        case .refuse, .abortDial, .close, .resumeAccepting, .endSniffing, .stop, .spread:
            break
        }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(wakeFD, $0.baseAddress, 8) }
    }

    // MARK: The relay thread

    private func run() {
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
                tellEnds()
                closeAccepting()
                break
            }
            if hasAcceptTimers { checkAcceptTimers() }
            tellEnds()
            handAccepted()
            if trimPending { trimHeapIfDue() }
            if spreadAfter > 0, now >= lastSpread &+ Self.spreadInterval { spreadSessions() }
        }
    }

    /// How long epoll_wait may sleep (ms): accept timers, then spreading, then a pending heap trim.
    private var waitTimeout: CInt {
        if hasAcceptTimers { return 100 }
        if spreadAfter > 0, sessionCount.load(ordering: .relaxed) > 0 { return 250 }
        return trimPending ? 1000 : -1
    }

    /// One task per event loop for the sessions of that loop that ended in this pass.
    private func tellEnds() {
        guard !pendingEnds.isEmpty else { return }
        for group in pendingEnds {
            let ends = group.ends
            group.loop.execute {
                for (link, reason) in ends { link.endsOn?.onLoop(reason) }
            }
        }
        pendingEnds.removeAll(keepingCapacity: true)
    }

    /// Applies queued commands; false on `stop`.
    private func runCommands() -> Bool {
        var counter: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &counter) { read(wakeFD, $0.baseAddress, 8) }
        let queued = commands.withLockedValue { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        for (position, command) in queued.enumerated() {
            switch command {
            case .adopt(let session):
                session.since = now
                register(session)
                trimPending = true
                adoptedSinceTrim += 1
            case .immigrate(let session):
                session.link.owner.store(index, ordering: .releasing)
                register(session)
            case .spread(let peers, let after):
                self.peers = peers
                spreadAfter = peers.count > 1 ? after : 0
            case .dial(let session, let dial):
                session.since = now
                insert(session)
                // The client's channel was freed with the move, as on an adoption.
                trimPending = true
                adoptedSinceTrim += 1
                session.client.parked = true
                session.client.interest = 0
                attach(dial, to: session)
            case .redial(let link, let dial):
                guard let session = session(of: link), session.waitingForServer else {
                    Glibc.close(dial.fd)
                    continue
                }
                session.server = RelayedSession.Side(fd: dial.fd)
                attach(dial, to: session)
            case .refuse(let link, let bytes):
                guard let session = session(of: link) else { continue }
                if !bytes.isEmpty {
                    _ = bytes.withUnsafeBytes { raw in
                        raw.baseAddress.flatMap { Self.sendSome(session.client.fd, $0, raw.count) }
                    }
                }
                end(session, reason: nil)
            case .abortDial(let link):
                guard let session = session(of: link), session.connecting else { continue }
                lose(session, .failed(errno: ETIMEDOUT, resend: session.replay ?? []))
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
            case .endSniffing(let reason):
                endSniffing(reason: reason)
            case .inspectSniffers(let reply):
                reply(describeSniffers())
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

    /// Gives the heap pages the handed-off sessions' channels used back to the system, at most once a
    /// second across relay threads: after a burst of new sessions, glibc would otherwise keep the
    /// peak (about 4 KiB per session still on its channels) for good.
    private func trimHeapIfDue() {
        let last = Self.lastTrim.load(ordering: .relaxed)
        guard now >= last &+ Self.trimInterval else { return }
        guard Self.lastTrim.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged else {
            return
        }
        _ = c_epoll_trim_heap()
        // One more trim a second after the last adoption: channels closed since are freed by then.
        trimPending = adoptedSinceTrim > 0
        adoptedSinceTrim = 0
    }

    /// The live session behind `link`, if it is still in the table.
    private func session(of link: RelayLink) -> RelayedSession? {
        guard link.owner.load(ordering: .acquiring) == index, link.slot >= 0, link.slot < sessions.count,
            let session = sessions[link.slot], session.link === link
        else { return nil }
        return session
    }

    /// Gives `session` a slot in the table.
    private func insert(_ session: RelayedSession) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            sessions[slot] = session
        } else {
            slot = sessions.count
            sessions.append(session)
        }
        session.link.slot = slot
    }

    private func register(_ session: RelayedSession) {
        insert(session)
        let slot = session.slot
        for side in 0...1 {
            var event = epoll_event()
            event.events = Self.readable
            event.data.u64 = UInt64(slot) << 1 | UInt64(side)
            if epoll_ctl(epollFD, EPOLL_CTL_ADD, session[side].fd, &event) != 0 {
                end(session, reason: .error)
                return
            }
            session[side].registered = true
        }
    }

    // MARK: Connect phase (sessions adopted while dialing)

    /// Gives a dialing session its server socket: connected ones start relaying at once, others wait
    /// for the socket to report.
    private func attach(_ dial: RelayServerDial, to session: RelayedSession) {
        session.waitingForServer = false
        session.replay = dial.bytes
        session.replayable = dial.replayable
        session.connectedHook = dial.onConnected
        session.server.backlog = Array(dial.bytes[min(dial.sentCount, dial.bytes.count)...])
        session.server.backlogStart = 0
        session.server.parked = true
        if session.link.dialHooks?.probeServerKeepAlive == true, !session.answered {
            session.probe = ConnAckKeepAliveProbe()
        }
        if dial.connected {
            established(session)
            return
        }
        session.connecting = true
        if !setInterest(session, side: RelayedSession.server, Self.readable | Self.writable) {
            lose(session, .failed(errno: errno, resend: dial.bytes))
        }
    }

    /// The server socket of a connecting session reported: connected, or failed (SO_ERROR).
    private func connectFinished(_ session: RelayedSession) {
        var code: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        if getsockopt(session.server.fd, SOL_SOCKET, SO_ERROR, &code, &length) != 0 { code = errno }
        guard code == 0 else {
            lose(session, .failed(errno: code, resend: session.replay ?? []))
            return
        }
        if session.connectedHook?() == false {
            lose(session, .superseded(resend: session.replay ?? []))
            return
        }
        established(session)
    }

    /// The server is connected: write what waits for it, then read both sides.
    private func established(_ session: RelayedSession) {
        session.connecting = false
        session.connectedHook = nil
        session.link.connected.store(true, ordering: .relaxed)
        if !session.replayable { session.replay = nil }
        let server = RelayedSession.server
        let start = session.server.backlogStart
        let fd = session.server.fd
        let sent = session.server.backlog.withUnsafeBytes { bytes in
            bytes.count == start ? 0 : bytes.baseAddress.flatMap { Self.sendSome(fd, $0 + start, bytes.count - start) }
        }
        guard let sent else {
            fail(session, side: server)
            return
        }
        session.server.backlogStart += sent
        let drained = session.server.backlogStart == session.server.backlog.count
        if drained {
            session.server.backlog = []
            session.server.backlogStart = 0
        }
        guard setInterest(session, side: server, drained ? Self.readable : Self.readable | Self.writable) else {
            end(session, reason: .error)
            return
        }
        // The client is read once what it sent so far is with the server.
        if drained, !setInterest(session, side: RelayedSession.client, Self.readable) {
            end(session, reason: .error)
        }
    }

    /// Whether losing the server now is a failed attempt to retry elsewhere rather than the end:
    /// it sent nothing yet, the bytes for the next one are all here, and the client is still there.
    private func canReplay(_ session: RelayedSession) -> Bool {
        session.link.dialHooks != nil && session.replay != nil && !session.answered && !session.client.inputClosed
    }

    /// The server is gone before answering: close its socket, park the client, and let the handler
    /// pick the next server (``redial(_:_:)``) or give up (``refuse(_:with:)``).
    private func lose(_ session: RelayedSession, _ loss: RelayDialLoss) {
        guard let hooks = session.link.dialHooks, !session.client.inputClosed else {
            end(session, reason: .serverClosed)
            return
        }
        if session.server.fd >= 0 { Glibc.close(session.server.fd) }
        session.server = RelayedSession.Side(fd: -1)
        // Out of the epoll set while it waits: a hang-up now would otherwise be reported in a loop.
        session.client.parked = true
        setInterest(session, side: RelayedSession.client, 0)
        session.connecting = false
        session.waitingForServer = true
        session.replay = nil
        session.probe = nil
        session.link.connected.store(false, ordering: .relaxed)
        hooks.lost(loss)
    }

    /// Handles one event of the batch; true for the wake-up (commands are waiting).
    func dispatch(_ data: UInt64, _ flags: UInt32) -> Bool {
        if data == Self.wakeToken { return true }
        if data & Self.acceptorToken != 0 {
            acceptReady(Int(data & ~Self.acceptorToken))
        } else if data & Self.snifferToken != 0 {
            sniffReady(Int(data & ~Self.snifferToken))
        } else {
            handle(slot: Int(data >> 1), side: Int(data & 1), flags: flags)
        }
        return false
    }

    private func handle(slot: Int, side: Int, flags: UInt32) {
        guard slot < sessions.count, let session = sessions[slot] else { return }
        if session.connecting || session.waitingForServer {
            if session.connecting, side == RelayedSession.server { connectFinished(session) }
            return
        }
        if flags & EPOLLERR.rawValue != 0 {
            fail(session, side: side)
            return
        }
        if flags & Self.writable != 0 {
            flushBacklog(session, to: side)
            if session.isEnded { return }
        }
        if flags & (Self.readable | EPOLLHUP.rawValue) != 0 {
            pump(session, from: side, hangUp: flags & EPOLLHUP.rawValue != 0)
        }
    }

    /// One read from `from`, written on to the other side at once; what does not fit waits.
    private func pump(_ session: RelayedSession, from: Int, hangUp: Bool) {
        let to = from ^ 1
        guard !session[from].inputClosed else {
            if hangUp { retireIfDone(session, side: from) }
            return
        }
        guard session[to].backlog.isEmpty else {
            // Reads resume when the backlog is written; a hang-up cannot wait for that.
            if hangUp { fail(session, side: from) }
            return
        }
        apply(relayOnce(session, from: from, through: scratch), to: session)
    }

    /// The read-and-write step of ``pump(_:from:hangUp:)`` through `buffer`, which touches nothing
    /// but `session` (and the epoll set), so the assist thread can run it too: what ends the
    /// session or one of its sides is returned for the relay thread to ``apply(_:to:)``.
    func relayOnce(_ session: RelayedSession, from: Int, through buffer: UnsafeMutableRawBufferPointer)
        -> RelayStep
    {
        let to = from ^ 1
        guard let base = buffer.baseAddress else { return .relayed }
        let received = recv(session[from].fd, base, buffer.count, 0)
        if received > 0 {
            account(session, from: from, read: UnsafeRawBufferPointer(start: base, count: received))
            guard let sent = Self.sendSome(session[to].fd, base, received) else { return .failed(side: to) }
            if sent < received {
                session[to].backlog = Array(UnsafeRawBufferPointer(start: base + sent, count: received - sent))
                session[to].backlogStart = 0
                setInterest(session, side: from, session[from].interest & ~Self.readable)
                setInterest(session, side: to, session[to].interest | Self.writable)
            }
        } else if received == 0 {
            return .ended(side: from)
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            return .failed(side: from)
        }
        return .relayed
    }

    /// Carries out what a ``relayOnce(_:from:through:)`` left to the relay thread.
    func apply(_ step: RelayStep, to session: RelayedSession) {
        guard !session.isEnded else { return }
        switch step {
        case .relayed: break
        case .ended(let side): inputEnded(session, side: side)
        case .failed(let side): fail(session, side: side)
        }
    }

    /// Sends as much of `count` bytes as the socket takes now: how many it took, or nil on an error
    /// (reset, broken pipe; never a SIGPIPE).
    static func sendSome(_ fd: CInt, _ bytes: UnsafeRawPointer, _ count: Int) -> Int? {
        var sent = 0
        while sent < count {
            let result = send(fd, bytes + sent, count - sent, CInt(MSG_NOSIGNAL))
            if result >= 0 {
                sent += result
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                return nil
            }
        }
        return sent
    }

    /// Counts what was read: bytes, activity, the client's DISCONNECT.
    private func account(_ session: RelayedSession, from side: Int, read: UnsafeRawBufferPointer) {
        let bytes = read.count
        let link = session.link
        if side == RelayedSession.client {
            link.clientBytes.add(UInt64(bytes), ordering: .relaxed)
            link.bytesIn.increment(by: Int64(bytes))
            link.lastActivity.store(now, ordering: .relaxed)
            if session.tracker.feedUntilDone(read), session.firstToFinish == nil {
                session.firstToFinish = .clientClosed
            }
            if session.replay != nil {
                session.replay?.append(contentsOf: read)
                if session.replay?.count ?? 0 > link.dialHooks?.replayLimit ?? 0 { session.replay = nil }
            }
        } else {
            link.serverBytes.add(UInt64(bytes), ordering: .relaxed)
            link.bytesOut.increment(by: Int64(bytes))
            if link.serverBytesAreActivity { link.lastActivity.store(now, ordering: .relaxed) }
            if !session.answered {
                session.replay = nil
                link.answered.store(true, ordering: .relaxed)
            }
            if session.probe != nil {
                probeServerKeepAlive(session, read)
            }
            // Nothing more to report: the hooks (and the handler references they hold) can go.
            if session.probe == nil, link.dialHooks != nil { link.dialHooks = nil }
        }
    }

    /// MQTT 5.0 §3.2.2.3.14: the first packet from the broker, up to 4 KiB, read for a Server Keep
    /// Alive, which the handler's idle deadline then follows.
    private func probeServerKeepAlive(_ session: RelayedSession, _ read: UnsafeRawBufferPointer) {
        guard var probe = session.probe else { return }
        guard let verdict = probe.feed(read) else {
            session.probe = probe
            return
        }
        session.probe = nil
        if case .value(let seconds) = verdict { session.link.dialHooks?.serverKeepAlive(seconds) }
    }

    /// Writes the backlog toward `side`; once it is gone, reading the other side resumes (or its
    /// FIN is passed on).
    private func flushBacklog(_ session: RelayedSession, to side: Int) {
        let other = side ^ 1
        let start = session[side].backlogStart
        let fd = session[side].fd
        let sent = session[side].backlog.withUnsafeBytes { bytes in
            bytes.baseAddress.flatMap { Self.sendSome(fd, $0 + start, bytes.count - start) }
        }
        guard let sent else {
            fail(session, side: side)
            return
        }
        session[side].backlogStart += sent
        guard session[side].backlogStart == session[side].backlog.count else { return }
        session[side].backlog = []
        session[side].backlogStart = 0
        setInterest(session, side: side, session[side].interest & ~Self.writable)
        if session[other].inputClosed {
            shutdownOutput(session, side: side)
            finishIfDone(session)
        } else {
            setInterest(session, side: other, session[other].interest | Self.readable)
        }
    }

    /// `side` sent its FIN: pass it on once nothing is left to write toward the other side.
    private func inputEnded(_ session: RelayedSession, side: Int) {
        if side == RelayedSession.server, canReplay(session) {
            lose(session, .silent(resend: session.replay ?? []))
            return
        }
        session[side].inputClosed = true
        if session.firstToFinish == nil {
            session.firstToFinish = side == RelayedSession.client ? .clientClosed : .serverClosed
        }
        if session[side ^ 1].inputClosed, session.client.backlog.isEmpty, session.server.backlog.isEmpty {
            // Both sides sent their FIN and nothing waits: close() sends ours, no shutdown() first.
            end(session, reason: session.firstToFinish ?? .clientClosed)
            return
        }
        setInterest(session, side: side, session[side].interest & ~Self.readable)
        let other = side ^ 1
        if session[other].backlog.isEmpty { shutdownOutput(session, side: other) }
        retireIfDone(session, side: side)
        finishIfDone(session)
    }

    private func shutdownOutput(_ session: RelayedSession, side: Int) {
        guard !session[side].outputShut else { return }
        session[side].outputShut = true
        _ = shutdown(session[side].fd, CInt(SHUT_WR))
        retireIfDone(session, side: side)
    }

    /// A socket finished both ways reports a hang-up forever: take it out of the epoll set.
    private func retireIfDone(_ session: RelayedSession, side: Int) {
        guard session[side].inputClosed, session[side].outputShut, session[side].registered else { return }
        session[side].registered = false
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, session[side].fd, nil)
    }

    private func finishIfDone(_ session: RelayedSession) {
        guard !session.isEnded, session.client.inputClosed, session.server.inputClosed,
            session.client.backlog.isEmpty, session.server.backlog.isEmpty
        else { return }
        end(session, reason: session.firstToFinish ?? .clientClosed)
    }

    /// An error on `side` (reset, broken pipe): the session ends, blamed on whoever finished first.
    private func fail(_ session: RelayedSession, side: Int) {
        if side == RelayedSession.server, canReplay(session) {
            lose(session, .silent(resend: session.replay ?? []))
            return
        }
        end(session, reason: session.firstToFinish ?? (side == RelayedSession.client ? .clientClosed : .serverClosed))
    }

    /// Sets what `side` is polled for. A side not in the epoll set is added when it is parked
    /// (waiting to be) and taken out when parked with no interest; false when epoll_ctl failed.
    @discardableResult
    private func setInterest(_ session: RelayedSession, side: Int, _ interest: UInt32) -> Bool {
        let wasParked = session[side].parked
        guard session[side].interest != interest || wasParked else { return true }
        session[side].interest = interest
        var event = epoll_event()
        event.events = interest
        event.data.u64 = UInt64(session.slot) << 1 | UInt64(side)
        if session[side].registered {
            if interest == 0, wasParked {
                session[side].registered = false
                return epoll_ctl(epollFD, EPOLL_CTL_DEL, session[side].fd, nil) == 0
            }
            return epoll_ctl(epollFD, EPOLL_CTL_MOD, session[side].fd, &event) == 0
        }
        guard wasParked, interest != 0 else { return true }
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, session[side].fd, &event) == 0 else { return false }
        session[side].registered = true
        session[side].parked = false
        return true
    }

    // MARK: Spreading (`relay_spread`)

    /// Gives sessions old enough to the relay threads with the fewest sessions while this one holds
    /// more than its share (the total over the threads, rounded up), at most ``spreadBatch`` per look.
    /// The ones that go are picked at random among those that can, not the first ones nor every
    /// other one: sessions that came in together (one device type, a load generator's publishers)
    /// often send together, and a burst is relayed in parallel only when it is split over threads;
    /// any fixed pattern can line up with the clients' own (measured: moving every other session put
    /// each of the load generator's two loops on one thread).
    private func spreadSessions() {
        lastSpread = now
        let engines = peers.map(\.engine)
        var counts = engines.map { $0?.sessionCount.load(ordering: .relaxed) ?? Int.max }
        let total = counts.reduce(0) { $0 &+ ($1 == Int.max ? 0 : $1) }
        let share = (total + engines.count - 1) / engines.count
        guard counts[index] > share else { return }
        var movable: [Int] = []
        for slot in sessions.indices {
            if let session = sessions[slot], canMove(session) { movable.append(slot) }
        }
        // The fraction that should leave of those that can: (n - 1) / n of them at most per look.
        let leaving = movable.count * (engines.count - 1) / engines.count
        let moves = min(counts[index] - share, Self.spreadBatch, max(leaving, movable.isEmpty ? 0 : 1))
        for pick in 0..<moves {
            // A partial Fisher-Yates shuffle: `moves` distinct slots at random.
            movable.swapAt(pick, Int.random(in: pick..<movable.count))
            guard let session = sessions[movable[pick]],
                let target = counts.indices.min(by: { counts[$0] < counts[$1] }), target != index,
                counts[target] < share, let engine = engines[target]
            else { return }
            counts[target] += 1
            emigrate(session, to: engine)
        }
    }

    /// Whether `session` can change threads: relaying both ways with nothing waiting, past its
    /// connect phase and its server's first answer, and old enough.
    private func canMove(_ session: RelayedSession) -> Bool {
        session.isPlain && now &- session.since >= spreadAfter
    }

    /// Takes `session` out of this thread's epoll set and table and hands it to `engine`.
    private func emigrate(_ session: RelayedSession, to engine: RelayEngine) {
        for side in 0...1 {
            _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, session[side].fd, nil)
            session[side].registered = false
        }
        // Events for the slot were all handled in this pass: it can be reused at once.
        sessions[session.slot] = nil
        freeSlots.append(session.slot)
        session.link.slot = RelayLink.inTransit
        sessionCount.subtract(1, ordering: .relaxed)
        engine.sessionCount.add(1, ordering: .relaxed)
        let link = session.link
        // Queued there first: whoever then sees the new owner and passes a close on queues it behind.
        // The receiving thread may have taken it (and pointed the owner at itself) already.
        engine.submit(.immigrate(session))
        _ = link.owner.compareExchange(expected: index, desired: engine.index, ordering: .releasing)
    }

    private func end(_ session: RelayedSession, reason: CloseReason?) {
        guard !session.isEnded else { return }
        session.isEnded = true
        for side in 0...1 where session[side].fd >= 0 {
            // The engine holds the only descriptor of each socket (a channel's own is closed at the
            // hand-off), so close() takes it out of the epoll set too.
            Glibc.close(session[side].fd)
        }
        if session.slot >= 0 {
            sessions[session.slot] = nil
            freeSlots.append(session.slot)
            session.link.slot = -1
        }
        sessionCount.subtract(1, ordering: .relaxed)
        let link = session.link
        guard let target = link.endsOn?.loop else {
            link.ended(reason)
            return
        }
        if let index = pendingEnds.firstIndex(where: { $0.loop === target }) {
            pendingEnds[index].ends.append((link, reason))
        } else {
            pendingEnds.append((target, [(link, reason)]))
        }
    }
}

extension RelayEngine {
    /// Starts a thread (not one of SwiftNIO's or Swift Concurrency's) that runs `body`.
    static func spawnThread(_ body: @escaping @Sendable () -> Void) throws(RelayEngineError) -> pthread_t {
        final class Body {
            let run: @Sendable () -> Void
            init(_ run: @escaping @Sendable () -> Void) { self.run = run }
        }
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var id = pthread_t()
        let created = pthread_create(
            &id, nil,
            { argument in
                guard let argument else { return nil }
                Unmanaged<Body>.fromOpaque(argument).takeRetainedValue().run()
                return nil
            }, context)
        guard created == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            throw RelayEngineError(call: "pthread_create", errno: created)
        }
        return id
    }

    /// The thread id kept in `box`, taken out (nil once taken): whoever gets it joins the thread.
    static func takeThread(_ box: NIOLockedValueBox<pthread_t?>) -> pthread_t? {
        box.withLockedValue { value in
            defer { value = nil }
            return value
        }
    }
}

/// A peer relay thread, held weakly: threads refer to one another without keeping one another alive.
struct WeakRelayEngine: @unchecked Sendable {
    weak var engine: RelayEngine?
    init(_ engine: RelayEngine) { self.engine = engine }
}

/// A relay thread could not be set up.
struct RelayEngineError: Error, CustomStringConvertible {
    var call: String
    var errno: CInt
    var description: String { "\(call): \(String(cString: strerror(errno)))" }
}

/// One session on a relay thread. Relay thread only.
final class RelayedSession {
    static let client = 0
    static let server = 1

    /// One socket of the session and what is waiting to be written to it.
    struct Side {
        let fd: CInt
        var interest = EPOLLIN.rawValue
        var registered = false
        /// Out of the epoll set until it has an interest again (connect phase).
        var parked = false
        /// Its peer sent FIN (read returned 0).
        var inputClosed = false
        /// We sent FIN (`shutdown(SHUT_WR)`).
        var outputShut = false
        /// Bytes read from the other side that this socket has not taken yet; empty (no storage) mostly.
        var backlog: [UInt8] = []
        var backlogStart = 0

        /// Polled for reading only, open both ways, nothing waiting: it can change epoll sets.
        var movable: Bool {
            registered && !parked && interest == EPOLLIN.rawValue && !inputClosed && !outputShut && backlog.isEmpty
        }
    }

    let link: RelayLink
    var client: Side
    var server: Side
    var tracker: MQTTStreamTracker?
    var firstToFinish: CloseReason?
    var isEnded = false
    /// Connect phase: the server socket's connect() is in progress (the client is parked).
    var connecting = false
    /// Connect phase: the server was lost before answering; the client is parked until the handler
    /// redials, refuses or closes.
    var waitingForServer = false
    /// The server sent a byte (kept on the link, where the handler reads it too).
    var answered: Bool { link.answered.load(ordering: .relaxed) }
    /// Whether ``replay`` is kept once connected.
    var replayable = false
    /// Every byte sent toward the current server while it has not answered (dialing sessions only).
    var replay: [UInt8]?
    /// MQTT 5: the broker's first bytes, until its CONNACK is read.
    var probe: ConnAckKeepAliveProbe?
    /// The current dial's passive-health report.
    var connectedHook: (@Sendable () -> Bool)?
    /// When it came to a relay thread (CLOCK_MONOTONIC ns): `relay_spread` moves it once old enough.
    var since: UInt64 = 0

    /// `relay_assist`: the batch that last saw it (``RelayAssist/mark``) and its item there, or -1
    /// when the relay thread handles it alone in that batch.
    var batchMark: UInt32 = 0
    var batchItem = -1

    /// Where the session is in its engine's table (kept on the link, where a close request finds it).
    var slot: Int { link.slot }

    /// Relaying both ways with nothing waiting, past its connect phase and its server's first
    /// answer: it can change threads (`relay_spread`), and the assist thread may relay it.
    var isPlain: Bool {
        !isEnded && !connecting && !waitingForServer && link.dialHooks == nil && probe == nil && replay == nil
            && client.movable && server.movable
    }

    init(client: CInt, server: CInt, link: RelayLink, tracker: MQTTStreamTracker?) {
        self.client = Side(fd: client)
        self.server = Side(fd: server)
        self.link = link
        self.tracker = tracker
    }

    subscript(side: Int) -> Side {
        _read { if side == Self.client { yield client } else { yield server } }
        _modify {
            if side == Self.client { yield &client } else { yield &server }
        }
    }
}
