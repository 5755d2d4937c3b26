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
        guard let fd = BoundSocket.tcp() else { return nil }
        defer { close(fd) }
        return BoundSocket.localPort(fd)
    }
}
