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

    /// Begins moving up to `limit` sessions that `order` selects, asking every owner at once; each
    /// gets a part of `limit` in proportion to `shares` (what each said was waiting last time, in
    /// owner order; equal parts when empty). Returns the sum, and what each owner has waiting now.
    func move(_ order: MoveOrder, upTo limit: Int, sharedBy shares: [Int] = []) async -> (MoveTally, [Int]) {
        let relays = relays
        let loops = loops.all
        let parts = Self.split(limit, over: relays.count + loops.count, by: shares)
        return await withTaskGroup(of: (Int, MoveTally).self) { group in
            for (index, relay) in relays.enumerated() {
                group.addTask { (index, await relay.moveSessions(order, upTo: parts[index])) }
            }
            for (offset, state) in loops.enumerated() {
                let index = relays.count + offset
                group.addTask {
                    let part = try? await state.eventLoop.submit { state.moveSessions(order, upTo: parts[index]) }.get()
                    return (index, part ?? MoveTally())
                }
            }
            var total = MoveTally()
            var waiting = Array(repeating: 0, count: parts.count)
            for await (index, tally) in group {
                total = total + tally
                waiting[index] = tally.waiting
            }
            return (total, waiting)
        }
    }

    /// `limit` in `count` parts, in proportion to `shares` (equal parts when they do not fit or sum
    /// to 0), rounded so that the parts add up to `limit`.
    static func split(_ limit: Int, over count: Int, by shares: [Int]) -> [Int] {
        guard count > 0 else { return [] }
        guard limit < Int.max / 2 else { return Array(repeating: limit, count: count) }
        let weights = shares.count == count && shares.reduce(0, +) > 0 ? shares : Array(repeating: 1, count: count)
        let sum = weights.reduce(0, +)
        var parts = weights.map { limit * $0 / sum }
        var left = limit - parts.reduce(0, +)
        for index in weights.indices.sorted(by: { weights[$0] > weights[$1] }) where left > 0 && weights[index] > 0 {
            parts[index] += 1
            left -= 1
        }
        return parts
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
