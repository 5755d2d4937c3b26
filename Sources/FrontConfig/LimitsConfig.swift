/// `listeners[i].limits`.
public struct LimitsConfig: Sendable, Equatable {
    /// Max concurrent connections from one client IP, 0 = none.
    public var perSourceIP: Int
    /// New sessions per second admitted, 0 = none.
    public var acceptRate: Int
    /// Bytes all the listener's connections whose CONNECT has not arrived whole may hold together
    /// (`max_pending_connect_bytes`); a connection whose next bytes would go past it is closed
    /// (reason `limit`).
    public var maxPendingConnectBytes: Int

    /// `max_pending_connect_bytes` when not written: 64 MiB, a thousand full-size (64 KiB) CONNECTs
    /// at once or tens of thousands of usual ones, whatever `max_connections` says.
    public static let defaultMaxPendingConnectBytes = 64 << 20

    public init(
        perSourceIP: Int = 0, acceptRate: Int = 0,
        maxPendingConnectBytes: Int = LimitsConfig.defaultMaxPendingConnectBytes
    ) {
        self.perSourceIP = perSourceIP
        self.acceptRate = acceptRate
        self.maxPendingConnectBytes = maxPendingConnectBytes
    }
}
