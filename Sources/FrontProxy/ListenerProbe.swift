import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Checks that nothing listens on an address before the front binds its own sockets there with
/// SO_REUSEPORT (one per event loop): with that option alone, a second front started by mistake
/// under the same user would silently share the port instead of failing with "address in use".
enum ListenerProbe {
    /// Throws the `bind` error (EADDRINUSE, EADDRNOTAVAIL, EACCES...) a plain socket with
    /// SO_REUSEADDR gets on `host:port`; Linux refuses such a bind while a socket listens there.
    static func ensureNobodyListens(host: String, port: Int) throws {
        let address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        let family: CInt
        switch address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        case .unixDomainSocket: return
        }
        let fd = socket(family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        defer { close(fd) }
        var one: CInt = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size))
        let result = address.withSockAddr { pointer, size in Glibc.bind(fd, pointer, socklen_t(size)) }
        guard result == 0 else { throw IOError(errnoCode: errno, reason: "bind(descriptor:ptr:bytes:)") }
    }
}
