import CEpoll
import FrontCore
import MQTTWire
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The byte pump: the session table, `recv` → `send` through the shared buffer, backlogs toward a
/// full receiver, FINs passed on, interest changes, and the end of a session. Relay thread only
/// (the assist thread runs ``relayOnce(_:from:through:)`` too).
extension RelayEngine {
    /// The live session behind `link`, if it is still in the table.
    func session(of link: RelayLink) -> RelayedSession? {
        guard link.owner.load(ordering: .acquiring) == index, link.slot >= 0, link.slot < sessions.count,
            let session = sessions[link.slot], session.link === link
        else { return nil }
        return session
    }

    /// Gives `session` a slot in the table.
    func insert(_ session: RelayedSession) {
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

    func register(_ session: RelayedSession) {
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

    func handle(slot: Int, side: Int, flags: UInt32) {
        guard slot < sessions.count, let session = sessions[slot] else { return }
        if session.connecting || session.waitingForServer {
            if session.connecting, side == RelayedSession.server { connectFinished(session) }
            return
        }
        if session.move != nil {
            handleMoving(session, side: side, flags: flags)
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
    func pump(_ session: RelayedSession, from: Int, hangUp: Bool) {
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
    func account(_ session: RelayedSession, from side: Int, read: UnsafeRawBufferPointer) {
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
                let limit = session.drive?.listener.sessionSettings.replayLimit ?? 0
                if session.replay?.count ?? 0 > limit { session.replay = nil }
            }
        } else {
            link.serverBytes.add(UInt64(bytes), ordering: .relaxed)
            link.bytesOut.increment(by: Int64(bytes))
            if link.serverBytesAreActivity { link.lastActivity.store(now, ordering: .relaxed) }
            session.serverTracker?.feed(read)
            if !session.answered {
                session.replay = nil
                link.answered.store(true, ordering: .relaxed)
            }
            if session.probe != nil {
                probeServerKeepAlive(session, read)
            }
        }
    }

    /// MQTT 5.0 §3.2.2.3.14: the first packet from the broker, up to 4 KiB, read for a Server Keep
    /// Alive, which the session machine's idle deadline then follows.
    func probeServerKeepAlive(_ session: RelayedSession, _ read: UnsafeRawBufferPointer) {
        guard var probe = session.probe else { return }
        guard let verdict = probe.feed(read) else {
            session.probe = probe
            return
        }
        session.probe = nil
        guard case .value(let seconds) = verdict else { return }
        if let drive = session.drive { feed(drive, .serverKeepAlive(seconds)) }
    }

    /// Writes the backlog toward `side`; once it is gone, reading the other side resumes (or its
    /// FIN is passed on).
    func flushBacklog(_ session: RelayedSession, to side: Int) {
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
        if session.move != nil {
            advanceMove(session)
            return
        }
        if session[other].inputClosed {
            shutdownOutput(session, side: side)
            finishIfDone(session)
        } else {
            setInterest(session, side: other, session[other].interest | Self.readable)
        }
    }

    /// `side` sent its FIN: pass it on once nothing is left to write toward the other side.
    func inputEnded(_ session: RelayedSession, side: Int) {
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

    func shutdownOutput(_ session: RelayedSession, side: Int) {
        guard !session[side].outputShut else { return }
        session[side].outputShut = true
        _ = shutdown(session[side].fd, CInt(SHUT_WR))
        retireIfDone(session, side: side)
    }

    /// A socket finished both ways reports a hang-up forever: take it out of the epoll set.
    func retireIfDone(_ session: RelayedSession, side: Int) {
        guard session[side].inputClosed, session[side].outputShut, session[side].registered else { return }
        session[side].registered = false
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, session[side].fd, nil)
    }

    func finishIfDone(_ session: RelayedSession) {
        guard !session.isEnded, session.client.inputClosed, session.server.inputClosed,
            session.client.backlog.isEmpty, session.server.backlog.isEmpty
        else { return }
        end(session, reason: session.firstToFinish ?? .clientClosed)
    }

    /// An error on `side` (reset, broken pipe): the session ends, blamed on whoever finished first.
    func fail(_ session: RelayedSession, side: Int) {
        if let move = session.move {
            // Past the DISCONNECTs a failed write is the move's end; before, the move is off.
            if move.stage == .farewell {
                endMoved(session, cause: move.cause)
                return
            }
            session.move = nil
        }
        if side == RelayedSession.server, canReplay(session) {
            lose(session, .silent(resend: session.replay ?? []))
            return
        }
        end(session, reason: session.firstToFinish ?? (side == RelayedSession.client ? .clientClosed : .serverClosed))
    }

    /// Sets what `side` is polled for. A side not in the epoll set is added when it is parked
    /// (waiting to be) and taken out when parked with no interest; false when epoll_ctl failed.
    @discardableResult
    func setInterest(_ session: RelayedSession, side: Int, _ interest: UInt32) -> Bool {
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

    func end(_ session: RelayedSession, reason: CloseReason?) {
        guard !session.isEnded else { return }
        session.isEnded = true
        for side in 0...1 where session[side].fd >= 0 {
            // The engine holds the only descriptor of each socket, so close() takes it out of the
            // epoll set too.
            Glibc.close(session[side].fd)
        }
        if session.slot >= 0 {
            sessions[session.slot] = nil
            freeSlots.append(session.slot)
            session.link.slot = -1
        }
        sessionCount.subtract(1, ordering: .relaxed)
        let link = session.link
        if let drive = session.drive {
            finishDriven(drive, reason: reason)
            return
        }
        link.ended(reason)
    }
}
