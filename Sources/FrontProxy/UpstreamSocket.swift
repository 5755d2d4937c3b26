import CEpoll
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// The server side of a session dialed from a plain socket, for a relay thread.
enum UpstreamSocket {
    enum Outcome {
        /// connect() was called; `sent` of the bytes went out, which proves the socket connected.
        case opened(fd: CInt, sent: Int, connected: Bool)
        /// socket(), bind() or connect() failed, or the first send found the connection refused.
        case failed(errno: CInt)
    }

    /// A non-blocking TCP socket with TCP_NODELAY, bound to `local` when given (with
    /// IP_BIND_ADDRESS_NO_PORT, or SO_REUSEADDR for a port the front picked), connecting to
    /// `target`; then one send of `bytes`, which on loopback or a nearby server usually goes
    /// through at once and spares the relay thread a wait for writability.
    static func open(to target: SocketAddress, from local: SocketAddress?, pickedPort: Bool, sending bytes: [UInt8])
        -> Outcome
    {
        let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        let fd = socket(CInt(target.protocol.rawValue), type, 0)
        guard fd >= 0 else { return .failed(errno: errno) }
        var one: CInt = 1
        let size = socklen_t(MemoryLayout<CInt>.size)
        var failure: CInt = 0
        if setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, size) != 0 { failure = errno }
        if failure == 0, let local {
            let option = pickedPort ? (SOL_SOCKET, SO_REUSEADDR) : (CInt(IPPROTO_IP), SocketTuning.bindAddressNoPort)
            if setsockopt(fd, option.0, option.1, &one, size) != 0
                || local.withSockAddr({ Glibc.bind(fd, $0, socklen_t($1)) }) != 0
            {
                failure = errno
            }
        }
        if failure == 0, target.withSockAddr({ Glibc.connect(fd, $0, socklen_t($1)) }) != 0, errno != EINPROGRESS {
            failure = errno
        }
        var sent = 0
        var connected = false
        if failure == 0, !bytes.isEmpty {
            let result = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, CInt(MSG_NOSIGNAL)) }
            if result >= 0 {
                sent = result
                connected = true
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                failure = errno
            }
        }
        guard failure == 0 else {
            Glibc.close(fd)
            return .failed(errno: failure)
        }
        return .opened(fd: fd, sent: sent, connected: connected)
    }
}
