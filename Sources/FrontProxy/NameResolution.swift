import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The addresses of a server addressed by name, from the system resolver (`getaddrinfo`: the hosts
/// file, then DNS), in the order it prefers them. Blocking: called on a thread pool.
enum NameResolution {
    /// Every IPv4 and IPv6 address `host` has for a TCP connection to `port`.
    ///
    /// - Throws: ``NameResolutionError`` when the name does not resolve, or to no IP address.
    static func addresses(of host: String, port: Int) throws(NameResolutionError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = CInt(SOCK_STREAM.rawValue)
        hints.ai_protocol = CInt(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, String(port), &hints, &list)
        guard code == 0, let list else {
            throw NameResolutionError(host: host, reason: String(cString: gai_strerror(code)))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var next: UnsafeMutablePointer<addrinfo>? = list
        while let entry = next?.pointee {
            next = entry.ai_next
            guard let address = entry.ai_addr else { continue }
            switch entry.ai_family {
            case AF_INET:
                let ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                addresses.append(SocketAddress(ipv4, host: host))
            case AF_INET6:
                let ipv6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                addresses.append(SocketAddress(ipv6, host: host))
            default:
                continue
            }
        }
        guard !addresses.isEmpty else { throw NameResolutionError(host: host, reason: "no IPv4 or IPv6 address") }
        return addresses
    }
}

/// A server's name did not resolve. Says nothing of whether the server listens: not a definitive
/// dial failure.
struct NameResolutionError: Error, CustomStringConvertible {
    var host: String
    var reason: String
    var description: String { "cannot resolve \(host): \(reason)" }
}
