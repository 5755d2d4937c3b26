import struct NIOConcurrencyHelpers.NIOLockedValueBox

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Hands out TCP ports on 127.0.0.1 that were free a moment ago, for servers a test starts itself.
///
/// Binds a socket to `127.0.0.1:0`, reads the port the kernel chose and closes the socket. A port is
/// never handed out twice by one process, so tests running in parallel do not get the same one; another
/// process may still take it before the test binds it, which is why the process helpers retry on a
/// failed start. Thread-safe; the calls are short non-blocking system calls.
public enum FreePort {
    private static let handedOut = NIOLockedValueBox<Set<Int>>([])

    /// A port on 127.0.0.1 that nothing listened on when it was probed.
    ///
    /// - Precondition: the process can create and bind a TCP socket (it cannot fail on a working host).
    public static func next() -> Int {
        for _ in 0..<64 {
            guard let port = probe() else { continue }
            let fresh = handedOut.withLockedValue { $0.insert(port).inserted }
            if fresh { return port }
        }
        preconditionFailure("FreePort: could not find a free TCP port on 127.0.0.1 (errno \(errno))")
    }

    /// One bind to port 0; nil when a system call failed.
    private static func probe() -> Int? {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { return nil }
        var actual = sockaddr_in()
        var actualLength = length
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: actual.sin_port))
    }
}
