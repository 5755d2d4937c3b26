import FrontCore
import Logging
import MQTTWire
import NIOCore
import ProxyProtocol
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One listening socket of a plain-TCP listener, accepted on by a ``RelayEngine`` thread instead of
/// a SwiftNIO server channel.
///
/// The relay thread accepts within the listener's and the process's connection caps (at a cap it
/// stops polling the socket, and new connections wait in the kernel's backlog until a slot frees),
/// pauses with a back-off when the process is out of descriptors or memory, and reads the client's
/// first bytes (a PROXY header first, with `accept_proxy_protocol`) until the MQTT CONNECT is whole
/// (or can never be). Each connection then becomes a session the same thread drives from there to
/// its close (``RelayDrive``). `@unchecked Sendable`: the settings are immutable, the flag is
/// atomic, and the rest is read and written on the relay thread alone.
final class RelayAcceptor: @unchecked Sendable {
    let fd: CInt
    let slot: ListenerSlot
    let global: ConnectionLimiter
    let logger: Logger
    /// The address clients connect to, for a PROXY header toward the broker; nil for a wildcard
    /// bind, where each connection's own is read (getsockname).
    let localAddress: ProxyAddress?
    /// Accepting stopped at a cap; the first freed slot resumes it.
    let waitingForSlot = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)

    // Relay thread only.
    /// Its index in the engine's table; -1 when not listening.
    var index = -1
    /// Whether the socket is polled for new connections now.
    var polled = false
    /// CLOCK_MONOTONIC nanoseconds at which accepting resumes after a shortage; 0: no back-off.
    var resumeAt: UInt64 = 0
    /// The pause the next shortage gets (100 ms doubling to 1 s, as ``AcceptPauseHandler``).
    var nextBackoff = RelayAcceptor.firstBackoff
    /// Pauses since the last accepted connection.
    var pausesInRow = 0

    static let firstBackoff: UInt64 = 100_000_000
    static let longestBackoff: UInt64 = 1_000_000_000
    /// Connections accepted per readiness report, so one busy listener does not starve the relay.
    static let acceptBudget = 64

    init(
        fd: CInt, slot: ListenerSlot, global: ConnectionLimiter, logger: Logger,
        localAddress: ProxyAddress?
    ) {
        self.fd = fd
        self.slot = slot
        self.global = global
        self.logger = logger
        self.localAddress = localAddress
    }

    var name: String { slot.current.config.name }

    /// Closes the listening socket, once, from whichever thread gets there first (the relay thread,
    /// or a caller after the thread stopped).
    func closeOnce() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Glibc.close(fd)
    }
}

/// A connection whose CONNECT read ended, to start as a driven session after the relay thread's
/// pass: its ``RawSniffer`` and how the read ended.
struct RawAccepted {
    enum Outcome: Sendable {
        /// The CONNECT is whole or can never be (`bytes`), or the listener is `tcp`.
        case ready
        /// The client closed (or reset) before that.
        case clientClosed
        /// Ended before that: the listener's `connect_timeout` passed, or the front closes every session.
        case ended(CloseReason)
    }

    var connection: RawSniffer
    var outcome: Outcome
}

/// An accepted connection from its accept until its CONNECT settles: read (and polled) by the relay
/// thread while the CONNECT arrives, then read once as the thread makes it a driven session
/// (``RelayEngine/startSession(_:_:)``).
final class RawSniffer {
    /// The connected socket, non-blocking; the driven session owns it once started.
    let fd: CInt
    let acceptor: RelayAcceptor
    /// The listener's runtime at accept, whose cap slot the connection holds (and the process's,
    /// ``RelayAcceptor/global``).
    let runtime: ListenerRuntime
    let peer: sockaddr_storage
    /// The address the client connected to, when the listener is bound to a wildcard.
    let local: sockaddr_storage?
    /// CLOCK_MONOTONIC nanoseconds of the accept: the connect deadline runs from here.
    let acceptedAt: UInt64
    let deadline: UInt64
    /// Everything read so far.
    var bytes: [UInt8] = []
    /// Bytes counted in the listener's `max_pending_connect_bytes` (the driven session takes them over).
    var heldConnectBytes = 0
    /// Whether the connection holds a slot of its IP's `per_source_ip` count (the driven session takes it over).
    var holdsSourceSlot = false
    /// `accept_proxy_protocol`: the PROXY header is still being read (it comes before the CONNECT).
    var awaitingProxyHeader = false
    /// The client and the address it connected to as the PROXY header named them; nil: the socket's.
    var proxiedSource: ProxyAddress?
    var proxiedDestination: ProxyAddress?
    /// Why the PROXY header step refused the connection, for the session's debug line.
    var proxyRefusal: String?
    /// Its index in the engine's sniffer table; -1 while not in the epoll set.
    var index = -1

    init(
        fd: CInt, acceptor: RelayAcceptor, runtime: ListenerRuntime, peer: sockaddr_storage, local: sockaddr_storage?,
        now: UInt64
    ) {
        self.fd = fd
        self.acceptor = acceptor
        self.runtime = runtime
        self.peer = peer
        self.local = local
        self.acceptedAt = now
        self.deadline = now &+ runtime.config.connectTimeout.nanosecondsClamped
    }

    /// The client's IP and port: the PROXY header's source, or the socket's peer.
    var client: (ip: String, port: Int) {
        if let proxiedSource { return (proxiedSource.ip, proxiedSource.port) }
        return SocketAddressText.ipAndPort(peer)
    }

    /// The address the client connected to: as the PROXY header named it, else the socket's own
    /// (a listener bound to a wildcard), else the listener's.
    var destination: ProxyAddress {
        if let proxiedDestination { return proxiedDestination }
        if let local {
            let address = SocketAddressText.ipAndPort(local)
            return ProxyAddress(ip: address.ip, port: address.port)
        }
        return acceptor.localAddress ?? ProxyAddress(ip: "0.0.0.0", port: 0)
    }

    /// Closes a connection that will not be handed over (the relay thread stops): its socket, its
    /// place in `connections_active`, its cap slots, its source IP slot and pending bytes.
    func discard() {
        Glibc.close(fd)
        runtime.metrics.active.decrement()
        runtime.limiter.release()
        acceptor.global.release()
        if holdsSourceSlot { runtime.sourceLimiter.release(client.ip) }
        runtime.pendingConnect.release(heldConnectBytes)
    }
}

/// The listening socket of a relay-accepted listener.
enum RelayListenSocket {
    /// A non-blocking listening socket on `address` (SO_REUSEADDR; SO_REUSEPORT when `reusePort`),
    /// with TCP_NODELAY, which accepted sockets inherit. Returns it and the port it got.
    static func open(_ address: SocketAddress, reusePort: Bool, backlog: CInt = 4096) throws -> (fd: CInt, port: Int) {
        let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        let fd = socket(CInt(address.protocol.rawValue), type, 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: CInt = 1
        let size = socklen_t(MemoryLayout<CInt>.size)
        var failed: (CInt, String)?
        if setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, size) != 0 {
            failed = (errno, "setsockopt(SO_REUSEADDR)")
        } else if reusePort, setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, size) != 0 {
            failed = (errno, "setsockopt(SO_REUSEPORT)")
        } else if setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, size) != 0 {
            failed = (errno, "setsockopt(TCP_NODELAY)")
        } else if address.withSockAddr({ Glibc.bind(fd, $0, socklen_t($1)) }) != 0 {
            failed = (errno, "bind(descriptor:ptr:bytes:)")
        } else if Glibc.listen(fd, backlog) != 0 {
            failed = (errno, "listen")
        }
        if let (code, call) = failed {
            Glibc.close(fd)
            throw IOError(errnoCode: code, reason: call)
        }
        return (fd, SocketAddressText.local(of: fd).map { SocketAddressText.ipAndPort($0).port } ?? 0)
    }
}

/// Addresses of raw sockets as text.
enum SocketAddressText {
    /// `fd`'s own address (`getsockname`); a TCP socket has one from its `connect`, even in progress.
    static func local(of fd: CInt) -> sockaddr_storage? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let found = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return found == 0 ? storage : nil
    }

    /// The IP (RFC 5952 for IPv6, as inet_ntop writes it) and port of an IPv4 or IPv6 address;
    /// ("", 0) for anything else.
    static func ipAndPort(_ storage: sockaddr_storage) -> (ip: String, port: Int) {
        let family = CInt(storage.ss_family)
        return withUnsafeBytes(of: storage) { raw -> (String, Int) in
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            switch family {
            case AF_INET:
                var address = raw.load(as: sockaddr_in.self)
                guard inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count)) != nil else { return ("", 0) }
                return (Self.string(text), Int(UInt16(bigEndian: address.sin_port)))
            case AF_INET6:
                var address = raw.load(as: sockaddr_in6.self)
                guard inet_ntop(AF_INET6, &address.sin6_addr, &text, socklen_t(text.count)) != nil else {
                    return ("", 0)
                }
                return (Self.string(text), Int(UInt16(bigEndian: address.sin6_port)))
            default:
                return ("", 0)
            }
        }
    }

    private static func string(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
