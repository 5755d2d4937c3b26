import CEpoll
import FrontCore
import FrontSession
import MQTTWire

#if canImport(Glibc)
    import Glibc
#endif

/// Moving sessions off their server, on the relay thread that holds them: each direction finishes
/// the packet it is in (reading no further than its end), then the broker gets DISCONNECT 0x00 on
/// the client's behalf, so it publishes no Will, and the client an MQTT 5 DISCONNECT (0x9C, or
/// 0x8B when the front stops) or, before MQTT 5, a close. A `tcp` session just closes.
extension RelayEngine {
    /// Begins moving up to `limit` of this thread's sessions that `order` selects, the longest idle
    /// first (the least likely to be in the middle of something); says how many are left. The
    /// table is looked through once per order, and again only when that list is used up.
    func moveSessions(_ order: MoveOrder, upTo limit: Int) -> MoveTally {
        moveCandidates = moveCandidates.filter { now &- $0.value.lastUsed < MoveCandidates.keep }
        var list = moveCandidates[order.id] ?? findCandidates(order)
        if list.next >= list.sessions.count { list = findCandidates(order) }
        var tally = MoveTally()
        var looked = 0
        let toLook = list.sessions.count - list.next
        while tally.started < limit, looked < toLook {
            let session = list.sessions[list.next]
            list.next += 1
            looked += 1
            guard self.session(of: session.link) === session, session.move == nil, !session.isEnded else { continue }
            guard isMovable(session) else {
                // Not yet (a connect phase, a replay): its turn comes again after the others'.
                list.sessions.append(session)
                continue
            }
            beginMove(session, order)
            tally.started += 1
        }
        list.lastUsed = now
        moveCandidates[order.id] = list
        tally.waiting = list.sessions.count - list.next
        tally.moving = movingSessions.count { $0.move?.orderID == order.id && !$0.isEnded }
        return tally
    }

    /// Every session of this thread that `order` selects and that is not moving yet, the longest
    /// idle first.
    private func findCandidates(_ order: MoveOrder) -> MoveCandidates {
        var found: [(idleSince: UInt64, session: RelayedSession)] = []
        for case let session? in sessions where session.move == nil && !session.isEnded {
            guard let drive = session.drive, drive.machine.phase != .closing, let server = drive.books.server,
                order.selects(server, drive.machine.routingKey)
            else { continue }
            found.append((session.link.lastActivity.load(ordering: .relaxed), session))
        }
        found.sort { $0.idleSince < $1.idleSince }
        return MoveCandidates(sessions: found.map(\.session), lastUsed: now)
    }

    /// Relaying to a server that answered, with nothing to replay: its stream has a known shape.
    func isMovable(_ session: RelayedSession) -> Bool {
        guard let drive = session.drive, drive.machine.phase == .relaying else { return false }
        return session.answered && !session.connecting && !session.waitingForServer && session.replay == nil
            && session.probe == nil && !session.client.inputClosed && !session.server.inputClosed
    }

    /// Starts moving `session`: an MQTT one finishes its packets first, any other closes now.
    func beginMove(_ session: RelayedSession, _ order: MoveOrder) {
        guard let drive = session.drive else { return }
        guard let version = drive.machine.connect?.version, session.tracker?.isTracking == true,
            session.serverTracker?.isTracking == true
        else {
            endMoved(session, cause: order.cause)
            return
        }
        let goodbye =
            version == .v5
            ? MQTTPacket.serverDisconnect(
                reasonCode: order.cause.clientReasonCode, serverReference: order.serverReference) : []
        session.move = SessionMove(
            cause: order.cause, orderID: order.id, clientGoodbye: goodbye, deadline: now &+ SessionMove.packetWait)
        movingSessions.append(session)
        advanceMove(session)
    }

    /// Takes a moving session one step on: reads only what finishes a packet; once both directions
    /// are at a boundary, queues the DISCONNECTs; once they are written, sends FINs; once both peers
    /// closed, ends the session (``CloseReason/moved``).
    func advanceMove(_ session: RelayedSession) {
        guard let move = session.move, !session.isEnded else { return }
        let client = RelayedSession.client
        let server = RelayedSession.server
        if move.stage == .finishingPackets {
            let inPacket = [
                !(session.tracker?.isAtPacketBoundary ?? true), !(session.serverTracker?.isAtPacketBoundary ?? true),
            ]
            if inPacket[client] || inPacket[server] {
                for side in [client, server] {
                    let reading = inPacket[side] && session[side ^ 1].backlog.isEmpty
                    setMoveInterest(session, side: side, reading: reading)
                }
                return
            }
            move.stage = .farewell
            move.deadline = now &+ SessionMove.farewellWait
            session[server].backlog += MQTTPacket.disconnect
            session[client].backlog += move.clientGoodbye
        }
        for side in [client, server] {
            if session[side].backlog.isEmpty {
                shutdownOutput(session, side: side)
            }
            setMoveInterest(session, side: side, reading: !session[side].inputClosed)
            // Closed both ways: out of the epoll set, or its hang-up would be reported on every wait.
            retireIfDone(session, side: side)
        }
        if session.client.inputClosed, session.server.inputClosed, session.client.outputShut,
            session.server.outputShut
        {
            endMoved(session, cause: move.cause)
        }
    }

    /// Polls `side` for reading when `reading`, and for writing while something waits for it.
    private func setMoveInterest(_ session: RelayedSession, side: Int, reading: Bool) {
        let interest = (reading ? Self.readable : 0) | (session[side].backlog.isEmpty ? 0 : Self.writable)
        if interest == 0, !session[side].registered { return }
        if !setInterest(session, side: side, interest) { endMoved(session, cause: session.move?.cause ?? .admin) }
    }

    /// An event on a moving session's socket.
    func handleMoving(_ session: RelayedSession, side: Int, flags: UInt32) {
        guard let move = session.move else { return }
        if flags & EPOLLERR.rawValue != 0 {
            if move.stage == .farewell {
                endMoved(session, cause: move.cause)
            } else {
                abandonMove(session)
                fail(session, side: side)
            }
            return
        }
        if flags & Self.writable != 0 {
            flushBacklog(session, to: side)
            if session.isEnded || session.move == nil { return }
        }
        guard flags & (Self.readable | EPOLLHUP.rawValue) != 0 else { return }
        if move.stage == .farewell {
            discardUntilClosed(session, side: side)
            return
        }
        if flags & EPOLLHUP.rawValue != 0 {
            // A peer hung up in the middle: not a move any more; the session ends as it would have.
            abandonMove(session)
            pump(session, from: side, hangUp: true)
            return
        }
        // Read no further than the end of the packet in flight, and only while the other side
        // takes what is read.
        let tracker = side == RelayedSession.client ? session.tracker : session.serverTracker
        let wanted = min(tracker?.bytesToPacketBoundary ?? 0, scratch.count)
        guard wanted > 0, session[side ^ 1].backlog.isEmpty else {
            advanceMove(session)
            return
        }
        let step = relayOnce(session, from: side, through: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<wanted]))
        if case .relayed = step {
            advanceMove(session)
        } else {
            // A peer left in the middle: not a move any more; the session ends as it would have.
            abandonMove(session)
            apply(step, to: session)
        }
    }

    /// Farewell: reads and drops what a peer still sends until it closes.
    private func discardUntilClosed(_ session: RelayedSession, side: Int) {
        guard let base = scratch.baseAddress, !session[side].inputClosed else { return }
        let received = recv(session[side].fd, base, scratch.count, 0)
        if received > 0 { return }
        if received < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
        session[side].inputClosed = true
        advanceMove(session)
    }

    /// The move stops: the session relays again (or ends as its peers end it), reading each side
    /// that is open and whose bytes the other side can take.
    private func abandonMove(_ session: RelayedSession) {
        session.move = nil
        for side in 0...1 where !session[side].inputClosed && session[side ^ 1].backlog.isEmpty {
            setInterest(session, side: side, session[side].interest | Self.readable)
        }
    }

    /// Ends `session` as moved for `cause`.
    func endMoved(_ session: RelayedSession, cause: MoveCause) {
        guard let drive = session.drive, !session.isEnded else {
            end(session, reason: .moved)
            return
        }
        session.move = nil
        feed(drive, .moved(cause))
        if !session.isEnded { end(session, reason: .moved) }
    }

    /// Moving sessions whose stage ran out of time end now: a packet that never finished (the broker
    /// is not told DISCONNECT, as with any close), or a peer that did not close after its DISCONNECT.
    func checkMoves() {
        lastMoveCheck = now
        movingSessions.removeAll { session in
            guard let move = session.move, !session.isEnded else { return true }
            guard now >= move.deadline else { return false }
            endMoved(session, cause: move.cause)
            return true
        }
    }
}
