import FrontCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Socket options and allocator shared by both sides of a relayed session. TCP_NODELAY is not among
/// them: SwiftNIO's bootstraps set it (`tcpOption`, level IPPROTO_TCP) on every socket by default.
/// (`ChannelOptions.socketOption(.tcp_nodelay)` would be level SOL_SOCKET, i.e. SO_DEBUG, which
/// needs CAP_NET_ADMIN: every connection of an unprivileged front was reset by it.)
enum SocketTuning {
    /// Linux `IP_BIND_ADDRESS_NO_PORT` (include/uapi/linux/in.h): bind() fixes only the address and
    /// the kernel picks the port at connect(), per destination, so one source IP serves ~64k
    /// connections to *each* broker instead of ~64k in all.
    static let bindAddressNoPort: CInt = 24
    static let ipBindAddressNoPort = ChannelOptions.Types.SocketOption(
        level: .init(IPPROTO_IP), name: bindAddressNoPort)

    /// `SO_REUSEPORT`, which NIO has no named option for.
    static let reusePort = ChannelOptions.Types.SocketOption(level: .init(SOL_SOCKET), name: SO_REUSEPORT)

    /// A small first receive buffer: NIO keeps each channel's pooled buffer while it idles, so this
    /// bounds memory per idle session; it grows for busy sessions.
    static func receiveAllocator() -> AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 64, maximum: 65_536)
    }

    /// Half-closure and the small receive buffer on a new session channel, set synchronously from its
    /// initializer (on its loop, before registration): a bootstrap's channel options are applied
    /// through a chain of futures, a cost paid twice per session on the connect path.
    static func apply(to channel: any Channel) throws {
        guard let options = channel.syncOptions else { throw ChannelError.operationUnsupported }
        try options.setOption(ChannelOptions.allowRemoteHalfClosure, value: true)
        try options.setOption(ChannelOptions.recvAllocator, value: receiveAllocator())
    }
}

/// Opens the upstream connection of a session on the client's own event loop, bound to a source IP.
enum UpstreamDialer {
    /// Dials `server`, binding to `sourceIP` when given (and to `port` when the front picked one;
    /// else the kernel picks the port at connect), and installs `handler` on the new channel; without
    /// one, the channel reads nothing (its socket is taken over once connected).
    /// Fails after `timeout`. Runs on `eventLoop`; the future completes there.
    static func dial(
        _ server: ServerRuntime,
        from sourceIP: String?,
        port: Int? = nil,
        on eventLoop: any EventLoop,
        timeout: Duration,
        handler: UpstreamHandler?
    ) -> EventLoopFuture<any Channel> {
        let boundHandler = NIOLoopBound(handler, eventLoop: eventLoop)
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(Int64(clamping: timeout.nanosecondsClamped)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try SocketTuning.apply(to: channel)
                    if let handler = boundHandler.value {
                        try channel.pipeline.syncOperations.addHandler(handler)
                    } else {
                        try channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
                    }
                }
            }
        if let sourceIP {
            do {
                let local = try SocketAddress(ipAddress: sourceIP, port: port ?? 0)
                // Bootstrap options, not the initializer: NIO binds before it runs the initializer.
                if port != nil {
                    // The same port may serve other servers, and follow a TIME_WAIT toward this one.
                    bootstrap = bootstrap.channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                } else {
                    bootstrap = bootstrap.channelOption(SocketTuning.ipBindAddressNoPort, value: 1)
                }
                bootstrap = bootstrap.bind(to: local)
            } catch {
                return eventLoop.makeFailedFuture(error)
            }
        }
        let address = server.config.address
        if let literal = try? SocketAddress(ipAddress: address.host, port: address.port) {
            return bootstrap.connect(to: literal)
        }
        return bootstrap.connect(host: address.host, port: address.port)
    }
}
