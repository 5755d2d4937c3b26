/// One end of a proxied connection as a PROXY protocol header carries it.
///
/// `ip` is text so callers need no socket types: IPv4 in dotted-quad form (`192.0.2.1`), IPv6 in the
/// RFC 5952 form (lowercase, no leading zeros, the longest run of two or more zero groups as `::`, and
/// `::ffff:a.b.c.d` for IPv4-mapped addresses per RFC 5952 §5). The parser always produces that form, so a
/// v1 and a v2 header naming the same address compare equal. A plain value, usable from any thread.
public struct ProxyAddress: Sendable, Equatable, Hashable {
    /// The address as text; see the type's documentation for the form.
    public var ip: String
    /// The TCP port, 0...65535 in any address the parser returns.
    public var port: Int

    /// Wraps an address and a port; the encoder checks both and falls back to "unknown" when they do not fit.
    public init(ip: String, port: Int) {
        self.ip = ip
        self.port = port
    }
}
