import FrontCore
import NIOCore

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// Which sessions an operator or the control plane reaches.
enum SessionMatch: Sendable {
    /// Every session (drain end, shutdown).
    case every
    /// The sessions whose CONNECT carried this client id (`DELETE /sessions`).
    case clientID(String)
    /// The relayed sessions whose server matches (failover, maintenance, a reload removing it).
    case server(@Sendable (ServerRuntime) -> Bool)

    /// Whether a session with `clientID` (from its CONNECT) relaying to `server` is one of them.
    func matches(clientID: String?, server: ServerRuntime?) -> Bool {
        switch self {
        case .every: true
        case .clientID(let wanted): clientID == wanted
        case .server(let matches): server.map(matches) ?? false
        }
    }
}

/// Where the front's sessions live (its event loops and its relay threads) and how the rest of the
/// front reaches them: each request is carried out by every owner on its own thread, since a
/// session is touched only by the thread that owns it.
///
/// Thread-safe: the loops never change, the relay threads are set once at start and let go at stop.
final class SessionOwners: Sendable {
    let loops: LoopStates
    private let relayThreads = NIOLockedValueBox<[RelayEngine]>([])
    /// The last close request's number: requests reach every relay thread in this order (numbered
    /// and submitted under this lock), which lets a session moving between threads catch up on
    /// those it missed (``RelayEngine/closesMissed(by:)``).
    private let closeSequence = NIOLockedValueBox<UInt64>(0)

    init(loops: LoopStates) {
        self.loops = loops
    }

    /// The relay threads running (in index order); none before start, after stop, or without them.
    var relays: [RelayEngine] {
        get { relayThreads.withLockedValue { $0 } }
        set { relayThreads.withLockedValue { $0 = newValue } }
    }

    /// Closes the sessions `match` names with `reason`, each on its own thread; returns at once.
    func close(_ match: SessionMatch, reason: CloseReason) {
        closeOnRelays(match, reason: reason, counted: nil)
        for state in loops.all {
            state.eventLoop.execute { _ = state.closeSessions(match, reason: reason) }
        }
    }

    /// Closes the sessions `match` names with `reason` and says how many there were.
    func closeCounting(_ match: SessionMatch, reason: CloseReason) async -> Int {
        let (answers, answer) = AsyncStream.makeStream(of: Int.self)
        let asked = closeOnRelays(match, reason: reason) { answer.yield($0) }
        var closed = 0
        var heard = 0
        if asked > 0 {
            for await count in answers {
                closed += count
                heard += 1
                if heard == asked { break }
            }
        }
        for state in loops.all {
            closed += (try? await state.eventLoop.submit({ state.closeSessions(match, reason: reason) }).get()) ?? 0
        }
        return closed
    }

    /// Asks every relay thread to close what `match` names, numbered in order; returns how many were asked.
    @discardableResult
    private func closeOnRelays(
        _ match: SessionMatch, reason: CloseReason, counted: (@Sendable (Int) -> Void)?
    ) -> Int {
        let relays = relays
        closeSequence.withLockedValue { sequence in
            sequence += 1
            for relay in relays {
                relay.closeSessions(match, reason: reason, sequence: sequence, counted: counted)
            }
        }
        return relays.count
    }

    /// Begins moving up to `limit` sessions that `order` selects, shared out over the owners (from
    /// `first` on, round the list, so no owner always goes first); says how many are left.
    func move(_ order: MoveOrder, upTo limit: Int, first: Int = 0) async -> MoveTally {
        let relays = relays
        let loops = loops.all
        let count = relays.count + loops.count
        var tally = MoveTally()
        guard count > 0 else { return tally }
        for step in 0..<count {
            let owner = (first + step) % count
            let budget = max(0, limit - tally.started)
            if owner < relays.count {
                tally = tally + (await relays[owner].moveSessions(order, upTo: budget))
            } else {
                let state = loops[owner - relays.count]
                let part = try? await state.eventLoop.submit { state.moveSessions(order, upTo: budget) }.get()
                tally = tally + (part ?? MoveTally())
            }
        }
        return tally
    }

    /// The sessions matching `filter` over every owner: how many, and each owner's first `keep` in
    /// sort order (not merged).
    func describe(_ filter: SessionFilter, keep: Int) async -> (total: Int, rows: [SessionInfo]) {
        var total = 0
        var rows: [SessionInfo] = []
        for state in loops.all {
            guard let part = try? await state.eventLoop.submit({ state.describeSessions(filter, keep: keep) }).get()
            else { continue }
            total += part.total
            rows += part.first
        }
        for relay in relays {
            let part = await relay.sessions(matching: filter, keep: keep)
            total += part.total
            rows += part.first
        }
        return (total, rows)
    }
}
