import FrontCore
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
        var total = 0
        var merged: [SessionInfo] = []
        for loop in loops.all {
            guard let part = try? await loop.eventLoop.submit({ loop.describeSessions(filter, keep: keep) }).get()
            else { continue }
            total += part.total
            merged += part.first
        }
        // Connections a relay thread accepted that are still sending their CONNECT
        // have no client id, backend or server yet: they match only an unfiltered listing.
        if filter.clientID == nil, filter.server == nil {
            let now = MonotonicTime.now()
            for relay in state.withLockedValue({ $0.relays }) {
                let sniffing = await relay.sniffingConnections()
                total += sniffing.count
                var first = SmallestElements<SniffingConnection>(capacity: keep) { $0.client < $1.client }
                for connection in sniffing { first.offer(connection) }
                merged += first.sorted().map { $0.info(now: now) }
            }
        }
        merged.sort { ($0.client_id ?? "", $0.client) < ($1.client_id ?? "", $1.client) }
        let start = min(offset, merged.count)
        return (total, Array(merged[start..<(start + min(limit, merged.count - start))]))
    }

    /// Closes every session whose CONNECT carried `clientID` (reason `admin`); returns how many.
    public func closeSessions(clientID: String) async -> Int {
        var closed = 0
        for loop in loops.all {
            closed += (try? await loop.eventLoop.submit({ loop.closeSessions(clientID: clientID) }).get()) ?? 0
        }
        return closed
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
            first.offer((session.connect?.clientID ?? "", session.clientAddress, session))
        }
        let now = MonotonicTime.now()
        return (total, first.sorted().map { $0.session.info(now: now) })
    }

    /// Closes this loop's sessions of `clientID`.
    func closeSessions(clientID: String) -> Int {
        eventLoop.assertInEventLoop()
        var victims: [ClientSessionHandler] = []
        forEachSession { if $0.connect?.clientID == clientID { victims.append($0) } }
        for session in victims { session.terminate(reason: .adminClosed) }
        return victims.count
    }
}

extension SniffingConnection {
    /// This connection as the admin API shows it: no client id, backend or server yet.
    func info(now: MonotonicTime) -> SessionInfo {
        SessionInfo(
            client_id: nil, client: client, listener: listener, backend: nil, server: nil, source: nil,
            age_seconds: SessionInfo.age(from: MonotonicTime(nanoseconds: acceptedAt), to: now),
            bytes_in: bytesIn, bytes_out: 0)
    }
}

extension ClientSessionHandler {
    /// This session as the admin API shows it.
    func info(now: MonotonicTime) -> SessionInfo {
        let bytes = totalBytes
        return SessionInfo(
            client_id: connect?.clientID, client: clientAddress, listener: listener.config.name,
            backend: backend?.name, server: server?.name, source: sourceIP ?? upstreamLocalIP,
            age_seconds: SessionInfo.age(from: started, to: now), bytes_in: bytes.in,
            bytes_out: bytes.out)
    }
}
