import CEpoll

#if canImport(Glibc)
    import Glibc
#endif

/// `relay_spread`: long-lived sessions move from the first relay thread to the least loaded one.
extension RelayEngine {
    /// Gives sessions old enough to the relay threads with the fewest sessions while this one holds
    /// more than its share (the total over the threads, rounded up), at most ``spreadBatch`` per look.
    /// The ones that go are picked at random among those that can, not the first ones nor every
    /// other one: sessions that came in together (one device type, a load generator's publishers)
    /// often send together, and a burst is relayed in parallel only when it is split over threads;
    /// any fixed pattern can line up with the clients' own (measured: moving every other session put
    /// each of the load generator's two loops on one thread).
    func spreadSessions() {
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
    func canMove(_ session: RelayedSession) -> Bool {
        session.isPlain && now &- session.since >= spreadAfter
    }

    /// Takes `session` out of this thread's epoll set and table and hands it to `engine`.
    func emigrate(_ session: RelayedSession, to engine: RelayEngine) {
        for side in 0...1 {
            _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, session[side].fd, nil)
            session[side].registered = false
        }
        // Events for the slot were all handled in this pass: it can be reused at once.
        sessions[session.slot] = nil
        freeSlots.append(session.slot)
        session.link.slot = RelayLink.inTransit
        if let drive = session.drive {
            wheel.cancel(drive)
            drive.closesTaken = closesTaken
        }
        sessionCount.subtract(1, ordering: .relaxed)
        engine.sessionCount.add(1, ordering: .relaxed)
        let link = session.link
        // Queued there first: whoever then sees the new owner and passes a close on queues it behind.
        // The receiving thread may have taken it (and pointed the owner at itself) already.
        engine.submit(.immigrate(session))
        _ = link.owner.compareExchange(expected: index, desired: engine.index, ordering: .releasing)
    }
}
