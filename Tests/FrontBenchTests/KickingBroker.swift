import FrontTesting
import NIOCore
import NIOPosix
import Synchronization

/// A stand-in MQTT 5.0 server that ends sessions the way an evacuating front does: it accepts every
/// CONNECT, and each of the first `kicks` connections gets DISCONNECT 0x9C (Use another server) `after`
/// its CONNACK, then a close. Later connections are held, or, with `refuseAfterKicks`, closed before any
/// CONNACK (a server that is gone). Answers PINGREQ. A CONNECT is assumed to arrive in one read
/// (loopback, small packets). Thread-safe.
final class KickingBroker: Sendable {
    /// The port it listens on (127.0.0.1).
    let port: Int
    private let channel: any Channel

    private init(port: Int, channel: any Channel) {
        self.port = port
        self.channel = channel
    }

    /// Listens on a free port.
    static func start(kicks: Int, after delay: TimeAmount, refuseAfterKicks: Bool = false) async throws -> KickingBroker
    {
        let accepted = AcceptCount()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = accepted.value.add(1, ordering: .relaxed).oldValue
                let behaviour: KickingBrokerHandler.Behaviour =
                    number < kicks ? .kick(after: delay) : refuseAfterKicks ? .refuse : .hold
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(KickingBrokerHandler(behaviour: behaviour))
                }
            }
            .bind(host: "127.0.0.1", port: FreePort.next()).get()
        return KickingBroker(port: channel.localAddress?.port ?? 0, channel: channel)
    }

    /// Stops listening.
    func stop() async {
        try? await channel.close()
    }

    /// Connections accepted so far, shared by the child initializers.
    private final class AcceptCount: Sendable {
        let value = Atomic<Int>(0)
    }
}

/// One connection of ``KickingBroker``. Event-loop bound.
final class KickingBrokerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What this connection does after its CONNECT.
    enum Behaviour {
        /// CONNACK, then DISCONNECT 0x9C and a close after the delay.
        case kick(after: TimeAmount)
        /// CONNACK, then nothing but PINGRESPs.
        case hold
        /// Close without CONNACK.
        case refuse
    }

    private let behaviour: Behaviour

    init(behaviour: Behaviour) {
        self.behaviour = behaviour
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        switch buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) {
        case 0x10: answerConnect(context: context)
        case 0xC0: send([0xD0, 0x00], context: context)
        default: break
        }
    }

    private func answerConnect(context: ChannelHandlerContext) {
        switch behaviour {
        case .refuse:
            context.close(promise: nil)
        case .hold:
            send([0x20, 0x03, 0x00, 0x00, 0x00], context: context)
        case .kick(let delay):
            send([0x20, 0x03, 0x00, 0x00, 0x00], context: context)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: delay) {
                let (handler, context) = bound.value
                handler.send([0xE0, 0x02, 0x9C, 0x00], context: context)
                context.close(promise: nil)
            }
        }
    }

    private func send(_ bytes: [UInt8], context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }
}
