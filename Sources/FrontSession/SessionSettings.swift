import FrontConfig
import FrontCore

/// What a session machine needs of its listener's configuration: a few values, made once per
/// listener and shared by its sessions (each holds a reference, not a copy: an idle session's
/// memory is what the front is sized by). Immutable, so thread-safe.
public final class SessionSettings: Sendable {
    /// MQTT (a CONNECT is sniffed, answered and replayed) or plain `tcp`.
    public let isMQTT: Bool
    /// A PROXY header comes first (`accept_proxy_protocol`).
    public let expectsProxyHeader: Bool
    /// The largest CONNECT accepted (`max_connect_size`); twice it bounds a replay.
    public let maxConnectSize: Int
    /// From accept to a routed CONNECT (`connect_timeout`).
    public let connectTimeout: Duration
    /// The idle deadline's rule.
    public let keepalive: KeepalivePolicy.Settings

    public init(
        isMQTT: Bool, expectsProxyHeader: Bool, maxConnectSize: Int, connectTimeout: Duration,
        keepalive: KeepalivePolicy.Settings
    ) {
        self.isMQTT = isMQTT
        self.expectsProxyHeader = expectsProxyHeader
        self.maxConnectSize = maxConnectSize
        self.connectTimeout = connectTimeout
        self.keepalive = keepalive
    }

    /// The settings of `listener`.
    public convenience init(listener: ListenerConfig) {
        self.init(
            isMQTT: listener.protocol == .mqtt, expectsProxyHeader: listener.acceptProxyProtocol,
            maxConnectSize: listener.maxConnectSize, connectTimeout: listener.connectTimeout,
            keepalive: KeepalivePolicy.Settings(listener: listener))
    }

    /// The most client bytes kept for a replay before the server answers; past it, no replay.
    public var replayLimit: Int { maxConnectSize * 2 }
}
