import NIOCore
import NIOPosix

/// A TCP port that accepts connections and ends each one without sending a byte: a broker that dies
/// between accepting a client and answering its CONNECT. A fault injector, not a broker.
public final class HangUpServer: Sendable {
    /// How each accepted connection ends.
    public enum Mode: Sendable, CustomStringConvertible {
        /// Reads the first bytes, then closes normally (FIN).
        case finAfterRead
        /// Resets the connection as soon as it is accepted (SO_LINGER 0: RST), unread bytes or not.
        case resetAtAccept
        /// Reads until this many bytes came on the connection, then closes normally (FIN).
        case finAfterReading(Int)

        public var description: String {
            switch self {
            case .finAfterRead: "FIN after the first read"
            case .resetAtAccept: "reset at accept"
            case .finAfterReading(let count): "FIN after reading \(count) bytes"
            }
        }
    }

    /// The port it listens on (127.0.0.1).
    public let port: Int
    private let channel: any Channel
    private let accepted: Locked<Int>
    private let received: Locked<[UInt8]>

    private init(port: Int, channel: any Channel, accepted: Locked<Int>, received: Locked<[UInt8]>) {
        self.port = port
        self.channel = channel
        self.accepted = accepted
        self.received = received
    }

    public static func start(_ mode: Mode) async throws -> HangUpServer {
        let accepted = Locked(0)
        let received = Locked<[UInt8]>([])
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        HangUpHandler(mode: mode, accepted: accepted, received: received))
                }
            }
            .bind(host: "127.0.0.1", port: FreePort.next()).get()
        return HangUpServer(
            port: channel.localAddress?.port ?? 0, channel: channel, accepted: accepted, received: received)
    }

    /// Connections accepted so far.
    public var acceptedCount: Int { accepted.value }

    /// Every byte read before hanging up, across connections.
    public var receivedBytes: [UInt8] { received.value }

    public func stop() async {
        try? await channel.close()
    }
}

/// One connection of a ``HangUpServer``. Event-loop bound.
final class HangUpHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let mode: HangUpServer.Mode
    private let accepted: Locked<Int>
    private let received: Locked<[UInt8]>
    /// Bytes read on this connection.
    private var readCount = 0

    init(mode: HangUpServer.Mode, accepted: Locked<Int>, received: Locked<[UInt8]>) {
        self.mode = mode
        self.accepted = accepted
        self.received = received
    }

    func channelActive(context: ChannelHandlerContext) {
        accepted.withLock { $0 += 1 }
        guard case .resetAtAccept = mode else { return }
        let channel = context.channel
        guard let provider = channel as? any SocketOptionProvider else {
            channel.close(promise: nil)
            return
        }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        received.withLock { $0.append(contentsOf: bytes.readableBytesView) }
        readCount += bytes.readableBytes
        if case .finAfterReading(let count) = mode, readCount < count { return }
        context.close(promise: nil)
    }
}
