/// Why a client connection ended: the `reason=` of the session log line and, for rejections,
/// the `reason` label of `brokerfront_connections_rejected_total`.
public enum CloseReason: String, Sendable, CaseIterable {
    case clientClosed = "client_closed"
    case serverClosed = "server_closed"
    case idleTimeout = "idle_timeout"
    case serverDown = "server_down"
    case failback
    case shutdown
    /// A reload removed the session's server and `drain_timeout` passed.
    case serverRemoved = "server_removed"
    /// Moved to another server at a packet boundary (evacuation, rebalancing, failback, maint, a
    /// removed server, shutdown): the broker was told DISCONNECT on the client's behalf. The log
    /// line's `cause=` says why (``MoveCause``).
    case moved
    /// An operator closed it (`DELETE /sessions/{client_id}`).
    case adminClosed = "admin"
    case malformedConnect = "malformed_connect"
    /// Two servers in a row closed on the client's CONNECT without answering: the client is closed
    /// as they closed it, and no server is marked down for it.
    case unansweredConnect = "unanswered_connect"
    case connectTimeout = "connect_timeout"
    case noServer = "no_server"
    case limit
    case denied
    case proxyProtocol = "proxy_protocol"
    case tls
    case error

    /// Reasons that are refusals of a connection before it was relayed (counted as rejected).
    public var isRejection: Bool {
        switch self {
        case .malformedConnect, .unansweredConnect, .connectTimeout, .noServer, .limit, .denied, .proxyProtocol, .tls:
            return true
        default: return false
        }
    }

    /// The rejection reasons, each with its own counter from the start.
    public static var rejections: [CloseReason] { allCases.filter(\.isRejection) }
}
