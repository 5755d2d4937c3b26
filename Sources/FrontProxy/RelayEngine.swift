import CEpoll
import CoreMetrics
import FrontConfig
import FrontCore
import MQTTWire
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
    /// on request (``RelayEngine/close(_:)``).
    let ended: @Sendable (CloseReason?) -> Void
    /// Where the session is in its engine's table; relay thread only.
    var slot = -1

    init(
        serverBytesAreActivity: Bool, bytesIn: Counter, bytesOut: Counter,
        ended: @escaping @Sendable (CloseReason?) -> Void
    ) {
        self.serverBytesAreActivity = serverBytesAreActivity
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.ended = ended
    }
}

/// One relay thread: established sessions, as two plain non-blocking sockets each, relayed by one
/// level-triggered epoll loop with a shared 64 KiB buffer.
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
        case close(RelayLink)
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
    }

    let name: String
    /// The scheduler time slice the thread asks for; zero: the kernel's default.
    let slice: Duration
    /// Sessions relayed by this thread now (read from any thread).
    let sessionCount = Atomic<Int>(0)
    private let commands = NIOLockedValueBox<[Command]>([])
    private let epollFD: CInt
    private let wakeFD: CInt
    private let thread = NIOLockedValueBox<pthread_t?>(nil)
    /// Set by the thread once it runs (condition 1); ``start()`` waits for it.
    private let started = ConditionLock<Int>(value: 0)
    private var sliceOutcome = SliceOutcome.kernelDefault

    // Relay thread only.
    private var sessions: [RelayedSession?] = []
    private var freeSlots: [Int] = []
    private let scratch: UnsafeMutableRawBufferPointer
    private var now: UInt64 = 0
    /// Sessions were adopted since the last heap trim (their channels were freed).
    private var trimPending = false
    private var adoptedSinceTrim = 0

    /// CLOCK_MONOTONIC nanoseconds of the last heap trim by any relay thread.
    private static let lastTrim = Atomic<UInt64>(0)
    private static let trimInterval: UInt64 = 1_000_000_000

    private static let wakeToken = UInt64.max
    private static let scratchSize = 65_536
    private static let readable = EPOLLIN.rawValue
    private static let writable = EPOLLOUT.rawValue

    /// An engine with its epoll instance; its thread starts with ``start()`` and asks the scheduler
    /// for `slice` (zero: keeps the kernel's default).
    init(name: String, slice: Duration = .zero) throws(RelayEngineError) {
        self.name = name
        self.slice = slice
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
        let context = Unmanaged.passRetained(self).toOpaque()
        var id = pthread_t()
        let created = pthread_create(
            &id, nil,
            { argument in
                guard let argument else { return nil }
                let engine = Unmanaged<RelayEngine>.fromOpaque(argument).takeRetainedValue()
                engine.run()
                return nil
            }, context)
        guard created == 0 else {
            Unmanaged<RelayEngine>.fromOpaque(context).release()
            throw RelayEngineError(call: "pthread_create", errno: created)
        }
        thread.withLockedValue { $0 = id }
        started.lock(whenValue: 1)
        defer { started.unlock() }
        return sliceOutcome
    }

    /// Asks the scheduler for ``slice`` for the calling (relay) thread.
    private func applySlice() -> SliceOutcome {
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
        guard
            let id = thread.withLockedValue({ value -> pthread_t? in
                defer { value = nil }
                return value
            })
        else { return }
        submit(.stop)
        pthread_join(id, nil)
    }

    /// Takes over an established session: both descriptors (owned from now on; closed when it ends),
    /// and the client's MQTT packet tracker to notice its DISCONNECT.
    func adopt(client: CInt, server: CInt, link: RelayLink, tracker: MQTTStreamTracker?) {
        sessionCount.add(1, ordering: .relaxed)
        submit(.adopt(RelayedSession(client: client, server: server, link: link, tracker: tracker)))
    }

    /// Closes a session from outside (admin, failover, drain, idle timeout); `link.ended(nil)` follows.
    func close(_ link: RelayLink) {
        submit(.close(link))
    }

    private func submit(_ command: Command) {
        let wasEmpty = commands.withLockedValue { queue in
            defer { queue.append(command) }
            return queue.isEmpty
        }
        guard wasEmpty else { return }
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
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            let count = epoll_wait(epollFD, events, CInt(capacity), trimPending ? 1000 : -1)
            if count < 0 {
                if errno == EINTR { continue }
                break
            }
            now = MonotonicTime.now().nanoseconds
            var woken = false
            for index in 0..<Int(count) {
                let data = events[index].data.u64
                if data == Self.wakeToken {
                    woken = true
                    continue
                }
                handle(slot: Int(data >> 1), side: Int(data & 1), flags: events[index].events)
            }
            // Commands after the batch: a slot freed above is not reused while stale events for it
            // may still be in the batch.
            if woken, !runCommands() { break }
            if trimPending { trimHeapIfDue() }
        }
    }

    /// Applies queued commands; false on `stop`.
    private func runCommands() -> Bool {
        var counter: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &counter) { read(wakeFD, $0.baseAddress, 8) }
        let queued = commands.withLockedValue { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        for command in queued {
            switch command {
            case .adopt(let session):
                register(session)
                trimPending = true
                adoptedSinceTrim += 1
            case .close(let link):
                guard link.slot >= 0, link.slot < sessions.count, let session = sessions[link.slot],
                    session.link === link
                else { continue }
                end(session, reason: nil)
            case .stop:
                for case let session? in sessions { end(session, reason: .shutdown) }
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

    private func register(_ session: RelayedSession) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            sessions[slot] = session
        } else {
            slot = sessions.count
            sessions.append(session)
        }
        session.link.slot = slot
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

    private func handle(slot: Int, side: Int, flags: UInt32) {
        guard slot < sessions.count, let session = sessions[slot] else { return }
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
        guard let base = scratch.baseAddress else { return }
        let received = recv(session[from].fd, base, Self.scratchSize, 0)
        if received > 0 {
            account(session, from: from, bytes: received)
            guard let sent = Self.sendSome(session[to].fd, base, received) else {
                fail(session, side: to)
                return
            }
            if sent < received {
                session[to].backlog = Array(UnsafeRawBufferPointer(start: base + sent, count: received - sent))
                session[to].backlogStart = 0
                setInterest(session, side: from, session[from].interest & ~Self.readable)
                setInterest(session, side: to, session[to].interest | Self.writable)
            }
        } else if received == 0 {
            inputEnded(session, side: from)
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            fail(session, side: from)
        }
    }

    /// Sends as much of `count` bytes as the socket takes now: how many it took, or nil on an error
    /// (reset, broken pipe; never a SIGPIPE).
    private static func sendSome(_ fd: CInt, _ bytes: UnsafeRawPointer, _ count: Int) -> Int? {
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
    private func account(_ session: RelayedSession, from side: Int, bytes: Int) {
        let link = session.link
        if side == RelayedSession.client {
            link.clientBytes.add(UInt64(bytes), ordering: .relaxed)
            link.bytesIn.increment(by: Int64(bytes))
            link.lastActivity.store(now, ordering: .relaxed)
            let read = UnsafeRawBufferPointer(start: scratch.baseAddress, count: bytes)
            if session.tracker.feedUntilDone(read), session.firstToFinish == nil {
                session.firstToFinish = .clientClosed
            }
        } else {
            link.serverBytes.add(UInt64(bytes), ordering: .relaxed)
            link.bytesOut.increment(by: Int64(bytes))
            if link.serverBytesAreActivity { link.lastActivity.store(now, ordering: .relaxed) }
        }
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
        session[side].inputClosed = true
        if session.firstToFinish == nil {
            session.firstToFinish = side == RelayedSession.client ? .clientClosed : .serverClosed
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
        end(session, reason: session.firstToFinish ?? (side == RelayedSession.client ? .clientClosed : .serverClosed))
    }

    private func setInterest(_ session: RelayedSession, side: Int, _ interest: UInt32) {
        guard session[side].interest != interest else { return }
        session[side].interest = interest
        guard session[side].registered else { return }
        var event = epoll_event()
        event.events = interest
        event.data.u64 = UInt64(session.slot) << 1 | UInt64(side)
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, session[side].fd, &event)
    }

    private func end(_ session: RelayedSession, reason: CloseReason?) {
        guard !session.isEnded else { return }
        session.isEnded = true
        for side in 0...1 {
            if session[side].registered { _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, session[side].fd, nil) }
            Glibc.close(session[side].fd)
        }
        if session.slot >= 0 {
            sessions[session.slot] = nil
            freeSlots.append(session.slot)
        }
        sessionCount.subtract(1, ordering: .relaxed)
        session.link.ended(reason)
    }
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
        /// Its peer sent FIN (read returned 0).
        var inputClosed = false
        /// We sent FIN (`shutdown(SHUT_WR)`).
        var outputShut = false
        /// Bytes read from the other side that this socket has not taken yet; empty (no storage) mostly.
        var backlog: [UInt8] = []
        var backlogStart = 0
    }

    let link: RelayLink
    var client: Side
    var server: Side
    var tracker: MQTTStreamTracker?
    var firstToFinish: CloseReason?
    var isEnded = false

    /// Where the session is in its engine's table (kept on the link, where a close request finds it).
    var slot: Int { link.slot }

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
