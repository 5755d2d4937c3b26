/// An `ip:port` or `host:port` pair as written in the config (`127.0.0.1:1883`, `[::1]:1883`, `broker-1:1883`).
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// The host without brackets: an IPv4/IPv6 literal or a DNS name.
    public var host: String
    /// TCP port, 0...65535 (0 only for binds: "any free port").
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with brackets around IPv6 literals.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
