/// What a balancer may route on, gathered by the data path from the connection and the CONNECT.
public struct RoutingKey: Sendable, Equatable {
    /// The CONNECT client identifier; nil on `tcp` listeners, may be empty on MQTT.
    public var clientID: String?
    /// The CONNECT user name, when present.
    public var username: String?
    /// The client's IP address as text (no port).
    public var sourceIP: String
    /// The subject CN of the client's TLS certificate, when the listener requires one.
    public var certificateCN: String?

    public init(clientID: String? = nil, username: String? = nil, sourceIP: String, certificateCN: String? = nil) {
        self.clientID = clientID
        self.username = username
        self.sourceIP = sourceIP
        self.certificateCN = certificateCN
    }
}
