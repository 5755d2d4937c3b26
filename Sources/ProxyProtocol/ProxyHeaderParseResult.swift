/// Outcome of feeding bytes to ``ProxyHeaderParser``.
public enum ProxyHeaderParseResult: Sendable, Equatable {
    /// Every byte so far fits a valid header, which is not whole yet: read more.
    case needMoreData
    /// A whole valid header occupying the first `length` bytes; the client's own bytes start there.
    case complete(ProxyHeader, length: Int)
    /// The bytes can never become a valid header: close the connection.
    case invalid(ProxyHeaderError)
}
