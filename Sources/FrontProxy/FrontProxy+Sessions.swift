import FrontCore
import FrontSession
import NIOCore

/// One live session as `GET /sessions` lists it.
public struct SessionInfo: Sendable, Equatable, Encodable {
    public var client_id: String?
    public var client: String
    public var listener: String
    public var backend: String?
    public var server: String?
    public var source: String?
    public var age_seconds: Double
    public var bytes_in: UInt64
    public var bytes_out: UInt64

    /// Every key in every row, `null` when unknown (a connection still sending its CONNECT has no
    /// client id, backend, server or source yet), so a row always has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var row = encoder.container(keyedBy: CodingKeys.self)
        try row.encode(client_id, forKey: .client_id)
        try row.encode(client, forKey: .client)
        try row.encode(listener, forKey: .listener)
        try row.encode(backend, forKey: .backend)
        try row.encode(server, forKey: .server)
        try row.encode(source, forKey: .source)
        try row.encode(age_seconds, forKey: .age_seconds)
        try row.encode(bytes_in, forKey: .bytes_in)
        try row.encode(bytes_out, forKey: .bytes_out)
    }

    private enum CodingKeys: String, CodingKey {
        case client_id, client, listener, backend, server, source, age_seconds, bytes_in, bytes_out
    }

    /// Seconds from `start` to `now`, to a tenth.
    static func age(from start: MonotonicTime, to now: MonotonicTime) -> Double {
        (now.since(start).secondsDouble * 10).rounded() / 10
    }
}

/// A filter over live sessions; nil fields match everything.
public struct SessionFilter: Sendable {
    public var clientID: String?
    public var server: String?

    public init(clientID: String? = nil, server: String? = nil) {
        self.clientID = clientID
        self.server = server
    }
}

extension FrontProxy {
    /// Live sessions matching `filter`, sorted by client id then client address, the page
    /// `offset ..< offset + limit`, and how many matched in all. Each event loop walks its own sessions
    /// once and keeps only the first `offset + limit` in sort order (a bounded heap: sort keys and
    /// references, no rows), then makes rows for those alone; so memory and rows made follow the page's
    /// depth, not the number of sessions. The admin plane bounds that depth (`AdminServer.sessionsDepth`).
    public func sessions(matching filter: SessionFilter, offset: Int, limit: Int) async -> (
        total: Int, page: [SessionInfo]
    ) {
        // Any offset and limit (a query string's): saturating, so `?offset=9223372036854775807` is an
        // empty page, not an overflow trap.
        let offset = max(0, offset)
        let limit = max(0, limit)
        let (sum, overflow) = offset.addingReportingOverflow(limit)
        let keep = overflow ? Int.max : sum
        var (total, merged) = await owners.describe(filter, keep: keep)
        merged.sort { ($0.client_id ?? "", $0.client) < ($1.client_id ?? "", $1.client) }
        let start = min(offset, merged.count)
        return (total, Array(merged[start..<(start + min(limit, merged.count - start))]))
    }

    /// Closes every session whose CONNECT carried `clientID` (reason `admin`); returns how many.
    public func closeSessions(clientID: String) async -> Int {
        await owners.closeCounting(.clientID(clientID), reason: .adminClosed)
    }
}

extension LoopState {
    /// The sessions of this loop matching `filter`: their count and the first `keep` in sort order,
    /// chosen by sort key before any row is made.
    func describeSessions(_ filter: SessionFilter, keep: Int) -> (total: Int, first: [SessionInfo]) {
        eventLoop.assertInEventLoop()
        var total = 0
        var first = SmallestElements<(clientID: String, client: String, session: ClientSessionHandler)>(
            capacity: keep
        ) { ($0.clientID, $0.client) < ($1.clientID, $1.client) }
        forEachSession { session in
            if let wanted = filter.clientID, session.connect?.clientID != wanted { return }
            if let wanted = filter.server, session.server?.name != wanted { return }
            total += 1
            first.offer((session.connect?.clientID ?? "", session.books.clientAddress, session))
        }
        let now = MonotonicTime.now()
        return (total, first.sorted().map { $0.session.info(now: now) })
    }

    /// Closes this loop's sessions that `match` names with `reason`; returns how many.
    func closeSessions(_ match: SessionMatch, reason: CloseReason) -> Int {
        eventLoop.assertInEventLoop()
        var victims: [ClientSessionHandler] = []
        forEachSession { if match.matches(clientID: $0.connect?.clientID, server: $0.server) { victims.append($0) } }
        for session in victims { session.terminate(reason: reason) }
        return victims.count
    }

    /// Begins moving up to `limit` of this loop's sessions that `order` selects, the longest idle
    /// first (the least likely to be in the middle of something); says how many are left.
    func moveSessions(_ order: MoveOrder, upTo limit: Int) -> MoveTally {
        eventLoop.assertInEventLoop()
        var tally = MoveTally()
        var chosen = SmallestElements<(idleSince: MonotonicTime, session: ClientSessionHandler)>(capacity: limit) {
            $0.idleSince < $1.idleSince
        }
        forEachSession { session in
            guard session.machine.phase == .relaying, let server = session.server,
                order.selects(server, session.machine.routingKey)
            else { return }
            if session.move != nil {
                tally.moving += 1
                return
            }
            tally.waiting += 1
            if session.isMovable { chosen.offer((session.machine.lastActivity, session)) }
        }
        for entry in chosen.sorted() where entry.session.machine.phase == .relaying {
            entry.session.beginMove(order)
            tally.started += 1
        }
        tally.waiting -= tally.started
        tally.moving += tally.started
        return tally
    }
}

/// One relay thread's share of a `GET /sessions` listing: how many matched, and the first in sort order.
typealias RelaySessionsPart = (total: Int, first: [SessionInfo])

extension RawSniffer {
    /// This connection as the admin API shows it (`client`: its address as text): no client id,
    /// backend or server yet.
    func info(client: String, now: MonotonicTime) -> SessionInfo {
        SessionInfo(
            client_id: nil, client: client, listener: runtime.config.name, backend: nil, server: nil, source: nil,
            age_seconds: SessionInfo.age(from: MonotonicTime(nanoseconds: acceptedAt), to: now),
            bytes_in: awaitingProxyHeader ? 0 : UInt64(bytes.count), bytes_out: 0)
    }
}

extension ClientSessionHandler {
    /// This session as the admin API shows it.
    func info(now: MonotonicTime) -> SessionInfo {
        books.info(listener, machine: machine, bytes: (bytesIn, bytesOut), now: now)
    }
}
