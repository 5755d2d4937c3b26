import MQTTWire
import NIOCore

/// Settings one bench connection needs; the same for all connections of a run except role and client id.
public struct BenchClientSettings: Sendable {
    /// Protocol revision of the CONNECT.
    public var version: MQTTProtocolVersion = .v3_1_1
    /// Keepalive announced in CONNECT (s); a PINGREQ goes out this often while idle. 0 = none.
    public var keepAlive: UInt16 = 60
    /// Send DISCONNECT and close right after a successful CONNACK (connect-rate scenarios).
    public var closeAfterConnAck = false
    /// No CONNACK within this time counts as a failure (`timeout`).
    public var connAckTimeout: TimeAmount = .seconds(10)
    /// PUBLISH payload size in bytes (at least 8: the send time).
    public var payloadSize = 64
    /// QoS of PUBLISH and SUBSCRIBE (0 or 1).
    public var qos: UInt8 = 0
    /// When set, each CONNECT carries a QoS 0 Will to `PREFIX/<client id>` (payload: the client id), which
    /// the broker publishes when the session ends without a DISCONNECT from the client.
    public var willTopicPrefix: String?

    /// Defaults: 3.1.1, keepalive 60 s, hold, 64-byte QoS 0 messages.
    public init() {}
}
