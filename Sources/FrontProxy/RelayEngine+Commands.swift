import CEpoll
import FrontCore
import MQTTWire

#if canImport(Glibc)
    import Glibc
#endif

/// What other threads ask of a relay thread: each request is a command queued for the thread,
/// which takes the queue after its current batch.
extension RelayEngine {
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

    /// Closes the sessions of this thread that `match` names with `reason`; `counted`, when given,
    /// hears how many (on the relay thread; 0 once it has stopped).
    /// `sequence`: the request's number (``SessionOwners``), in the order every thread gets them.
    func closeSessions(
        _ match: SessionMatch, reason: CloseReason, sequence: UInt64, counted: (@Sendable (Int) -> Void)?
    ) {
        submit(.closeSessions(RelayCloseRequest(sequence: sequence, match: match, reason: reason), counted: counted))
    }

    /// A connection slot freed while `acceptor` waited for one.
    func resumeAccepting(_ acceptor: RelayAcceptor) {
        submit(.resumeAccepting(acceptor))
    }

    /// This thread's sessions matching `filter`: how many, and the first `keep` in sort order;
    /// none once the thread has stopped.
    func sessions(matching filter: SessionFilter, keep: Int) async -> RelaySessionsPart {
        await withCheckedContinuation { continuation in
            submit(.inspectSessions(filter, keep: keep) { continuation.resume(returning: $0) })
        }
    }

    /// Begins moving up to `limit` of this thread's sessions that `order` selects (longest idle
    /// first) and says how many are left; nothing once the thread has stopped.
    func moveSessions(_ order: MoveOrder, upTo limit: Int) async -> MoveTally {
        await withCheckedContinuation { continuation in
            submit(.moveSessions(order, upTo: limit) { continuation.resume(returning: $0) })
        }
    }

    func submit(_ command: Command) {
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
    func turnAway(_ command: Command) {
        switch command {
        case .immigrate(let session):
            for side in 0...1 where session[side].fd >= 0 { Glibc.close(session[side].fd) }
            sessionCount.subtract(1, ordering: .relaxed)
            let link = session.link
            if let drive = session.drive {
                // In transit: no thread holds it, and its wheel entry was cancelled when it left.
                session.isEnded = true
                finishDriven(drive, reason: .shutdown)
            } else {
                link.ended(.shutdown)
            }
        case .listen(let acceptor):
            acceptor.closeOnce()
        case .unlisten(let acceptor, let done):
            acceptor.closeOnce()
            done()
        case .inspectSessions(_, _, let reply):
            reply((0, []))
        case .closeSessions(_, let counted):
            counted?(0)
        case .moveSessions(_, _, let reply):
            reply(MoveTally())
        case .close, .resumeAccepting, .stop, .spread, .resolved:
            break
        }
    }

    func wake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { write(wakeFD, $0.baseAddress, 8) }
    }
}
