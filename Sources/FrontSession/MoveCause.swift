/// Why a session was moved off its server: the `cause=` of a `reason=moved` log line and the
/// `reason` label of `brokerfront_sessions_moved_total`.
public enum MoveCause: String, Sendable, CaseIterable {
    /// `POST /backends/{b}/servers/{s}/evacuate`.
    case evacuate
    /// `POST /backends/{b}/rebalance`, or `rebalance: auto` after a server came back or was added.
    case rebalance
    /// `on_failback: close`: the primary took over again.
    case failback
    /// An operator set the server to `maint`.
    case maint
    /// A reload removed the server.
    case removed
    /// The front itself stops (SIGTERM, SIGINT).
    case shutdown
    /// An operator moved this one session (`POST /sessions/{client_id}/move`).
    case admin

    /// The MQTT 5 DISCONNECT reason the client gets: 0x8B "Server shutting down" when the front
    /// itself stops, else 0x9C "Use another server".
    public var clientReasonCode: UInt8 { self == .shutdown ? 0x8B : 0x9C }
}
