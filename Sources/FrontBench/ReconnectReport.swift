/// The reconnecting mode's part of the `RESULT` line: server closes, reconnects, the storm. Plain values.
public struct ReconnectReport: Sendable, Equatable {
    /// Connected sessions the server side closed.
    public var closed = 0
    /// Reconnects that reached a successful CONNACK.
    public var reconnects = 0
    /// Reconnect attempts that failed (connect error, close or timeout before CONNACK, refusal).
    public var reconnectFailed = 0
    /// From the first server close until every session connected before it was connected again; nil when
    /// nothing was closed or the sessions were not all back at the end of the hold.
    public var settleSeconds: Double?
    /// Most successful CONNACKs in any 100 ms window from the first server close on.
    public var peakConnects100ms = 0
    /// Will messages the watcher received; nil without a watcher.
    public var wills: Int?
    /// Server DISCONNECTs with reason 0x9C (Use another server).
    public var disconnect9C = 0
    /// Server DISCONNECTs with reason 0x8B (Server shutting down).
    public var disconnect8B = 0

    /// Nothing closed, nothing watched.
    public init() {}

    /// The storm's peak as a rate: the 100 ms window peak times ten, per second.
    public var peakConnectRate: Int { peakConnects100ms * 10 }

    /// The `RESULT` fields, in order; `-` for a figure that does not exist in this run.
    var fields: [(String, String)] {
        [
            ("closed", "\(closed)"), ("reconnects", "\(reconnects)"), ("reconnect_failed", "\(reconnectFailed)"),
            ("settle_s", settleSeconds.map { BenchReport.fixed($0, 3) } ?? "-"),
            ("peak_connects_100ms", "\(peakConnects100ms)"), ("peak_connect_rate", "\(peakConnectRate)"),
            ("wills", wills.map { "\($0)" } ?? "-"), ("disconnect_9c", "\(disconnect9C)"),
            ("disconnect_8b", "\(disconnect8B)"),
        ]
    }
}
