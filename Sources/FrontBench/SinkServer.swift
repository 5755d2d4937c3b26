import NIOCore
import NIOPosix
import Synchronization

import struct NIOConcurrencyHelpers.NIOLockedValueBox

#if canImport(Glibc)
    import Glibc
#endif

/// Connection counters of a sink process. Any thread.
public final class SinkCounters: Sendable {
    /// Connections open now.
    public let active = Atomic<Int>(0)
    /// Connections accepted in all.
    public let total = Atomic<Int>(0)
    /// CONNECTs answered.
    public let connAcks = Atomic<Int>(0)

    /// Zeroed counters.
    public init() {}

    func opened() {
        active.add(1, ordering: .relaxed)
        total.add(1, ordering: .relaxed)
    }

    func closed() { active.subtract(1, ordering: .relaxed) }

    func connAcked() { connAcks.add(1, ordering: .relaxed) }
}

/// The `bench sink` listener: ``SinkHandler`` behind a `SO_REUSEPORT` socket so several sink processes
/// share one port. Start with ``start()``, stop with ``stop()``; both block and are called off the loops.
public final class SinkServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let bind: BenchEndpoint
    private let backlog: Int32
    private let channel = NIOLockedValueBox<(any Channel)?>(nil)
    /// Live counters.
    public let counters = SinkCounters()

    /// A sink for `bind` (port 0 picks a free one) on `threads` event loops.
    public init(bind: BenchEndpoint, threads: Int = 1, backlog: Int32 = 4_096) {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        self.bind = bind
        self.backlog = backlog
    }

    /// Binds and listens; returns the bound port.
    @discardableResult
    public func start() throws -> Int {
        let counters = self.counters
        let server = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: backlog)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(BenchSocketOptions.reusePort, value: 1)
            // Accept in large batches: connection bursts are what the sink is for.
            .serverChannelOption(ChannelOptions.maxMessagesPerRead, value: 256)
            .childChannelOption(
                ChannelOptions.recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65_536)
            )
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SinkHandler(counters: counters))
                }
            }
            .bind(host: bind.host, port: bind.port)
            .wait()
        channel.withLockedValue { $0 = server }
        return server.localAddress?.port ?? bind.port
    }

    /// Closes the listener and every connection, and stops the event loops.
    public func stop() {
        if let server = channel.withLockedValue({ $0 }) { try? server.close().wait() }
        try? group.syncShutdownGracefully()
    }
}
