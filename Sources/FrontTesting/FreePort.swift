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
///
/// Everything a test process listens on should take its port here, never bind port 0: the kernel
/// hands out a port 0 bind from the same range, so it could take the port of a broker a test has just
/// stopped, or a port another test dials expecting a refusal (a front's listener did, once, and two
/// tests saw each other's sessions). A port that must refuse connections comes from ``refusing()``.
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

    /// A port free on every local address, for a listener bound to `0.0.0.0`: a port from ``next()``
    /// is free on 127.0.0.1 only, and may be held on another address by an outgoing connection's
    /// source port (a front dialing from 127.0.2.1, say), which a wildcard bind collides with.
    public static func nextOnAllAddresses() -> Int {
        for _ in 0..<64 {
            guard let port = probe(ip: "0.0.0.0") else { continue }
            let fresh = handedOut.withLockedValue { $0.insert(port).inserted }
            if fresh { return port }
        }
        preconditionFailure("FreePort: could not find a TCP port free on 0.0.0.0 (errno \(errno))")
    }

    /// A port on 127.0.0.1 that refuses connections for the rest of the process: a socket stays bound
    /// to it and never listens, so a connect gets a reset (ECONNREFUSED) and no other socket — a
    /// listener binding port 0, an outgoing connect's ephemeral port — can take it. Costs one
    /// descriptor per call, kept until the process exits.
    public static func refusing() -> Int {
        for _ in 0..<64 {
            guard let fd = BoundSocket.tcp() else { continue }
            guard let port = BoundSocket.localPort(fd), handedOut.withLockedValue({ $0.insert(port).inserted }) else {
                close(fd)
                continue
            }
            return port
        }
        preconditionFailure("FreePort: could not bind a refusing TCP port on 127.0.0.1 (errno \(errno))")
    }

    /// One bind to port 0 of `ip`; nil when a system call failed.
    private static func probe(ip: String = "127.0.0.1") -> Int? {
        guard let fd = BoundSocket.tcp(ip: ip) else { return nil }
        defer { close(fd) }
        return BoundSocket.localPort(fd)
    }
}
