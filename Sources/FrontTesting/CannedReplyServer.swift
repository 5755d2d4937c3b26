import NIOCore
import NIOPosix

/// A TCP port on 127.0.0.1 that answers every read with the same bytes: a fake server for health
/// checks (a "Redis" whose every reply is a chosen line, hostile ones included). Not a protocol
/// implementation: a command that arrives in two reads is answered twice.
public final class CannedReplyServer: Sendable {
    /// The port it listens on.
    public let port: Int
    private let channel: any Channel
    private let reads: Locked<Int>

    private init(port: Int, channel: any Channel, reads: Locked<Int>) {
        self.port = port
        self.channel = channel
        self.reads = reads
    }

    /// Listens on a free port and answers each read with `reply`.
    public static func start(reply: [UInt8]) async throws -> CannedReplyServer {
        let reads = Locked(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CannedReplyHandler(reply: reply, reads: reads))
                }
            }
            .bind(host: "127.0.0.1", port: FreePort.next()).get()
        return CannedReplyServer(port: channel.localAddress?.port ?? 0, channel: channel, reads: reads)
    }

    /// Reads answered so far, across connections.
    public var answered: Int { reads.value }

    /// Stops listening (open connections end with the event loop's next close).
    public func stop() async {
        try? await channel.close()
    }
}

/// One connection of a ``CannedReplyServer``. Event-loop bound.
final class CannedReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reply: [UInt8]
    private let reads: Locked<Int>

    init(reply: [UInt8], reads: Locked<Int>) {
        self.reply = reply
        self.reads = reads
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reads.withLock { $0 += 1 }
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: reply)), promise: nil)
    }
}
