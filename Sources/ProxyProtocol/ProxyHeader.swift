/// A decoded PROXY protocol header (HAProxy's doc/proxy-protocol.txt): who the real client was.
///
/// Produced by ``ProxyHeaderParser`` from the first bytes a trusted proxy sends. A plain value, usable from
/// any thread.
public struct ProxyHeader: Sendable, Equatable {
    /// Whether the header speaks for another node or for the sending proxy itself.
    public enum Command: Sendable, Equatable {
        /// v2 LOCAL (§2.2), or v1 `UNKNOWN` (§2.1): use the real connection's endpoints. No addresses.
        case local
        /// v2 PROXY, or v1 `TCP4`/`TCP6`: the connection is relayed for the client in ``source``.
        case proxy
    }

    /// 1 for the text format (§2.1), 2 for the binary format (§2.2).
    public var version: Int
    /// LOCAL or PROXY; see ``Command``.
    public var command: Command
    /// The original client; nil for LOCAL, v1 `UNKNOWN`, and v2 families with no TCP address (AF_UNSPEC, and
    /// AF_UNIX and datagram families, which §2.2 lets a receiver treat as AF_UNSPEC).
    public var source: ProxyAddress?
    /// The address the client connected to; nil exactly when ``source`` is nil.
    public var destination: ProxyAddress?
    /// v2 TLVs in the order sent (§2.2); always empty for v1.
    public var tlvs: [ProxyTLV]

    /// Builds a header; tests and encoders use it, the parser fills every field.
    public init(
        version: Int,
        command: Command,
        source: ProxyAddress? = nil,
        destination: ProxyAddress? = nil,
        tlvs: [ProxyTLV] = []
    ) {
        self.version = version
        self.command = command
        self.source = source
        self.destination = destination
        self.tlvs = tlvs
    }
}
