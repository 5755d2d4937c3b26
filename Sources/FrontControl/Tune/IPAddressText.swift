#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// IP literals as text: one canonical spelling (so `::0001` and `::1` compare equal) and a loopback test.
/// Pure functions over `inet_pton`/`inet_ntop`; safe from any thread.
enum IPAddressText {
    /// The `inet_ntop` spelling of an IPv4 or IPv6 literal, or nil when `text` is not one.
    static func canonical(_ text: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return format(family: AF_INET, bytes: &v4) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return format(family: AF_INET6, bytes: &v6) }
        return nil
    }

    /// Whether `text` is an IPv4 literal in 127.0.0.0/8.
    static func isIPv4Loopback(_ text: String) -> Bool {
        var v4 = in_addr()
        guard inet_pton(AF_INET, text, &v4) == 1 else { return false }
        return withUnsafeBytes(of: &v4) { $0.first == 127 }
    }

    /// Whether `host` (a literal or a name) means this machine over loopback: 127/8, `::1` or `localhost`.
    static func isLoopbackHost(_ host: String) -> Bool {
        host.lowercased() == "localhost" || isIPv4Loopback(host) || canonical(host) == "::1"
    }

    /// `inet_ntop` of an address held in `bytes` (an `in_addr` or `in6_addr`).
    static func format<Address>(family: Int32, bytes: inout Address) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let written = withUnsafePointer(to: &bytes) { pointer in
            inet_ntop(family, pointer, &buffer, socklen_t(buffer.count))
        }
        guard written != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
