import MQTTWire
import NIOCore
import NIOPosix

/// A stand-in MQTT broker that never disconnects anyone by itself: it answers CONNECT with an accepting
/// CONNACK and PINGREQ with PINGRESP, closes on DISCONNECT, and ignores everything else.
///
/// For tests where a real broker's own rules would race the front's (mosquitto also enforces Keep
/// Alive at 1.5 × the client's value, so a keepalive test against it could see the broker's close
/// instead of the front's). Thread-safe.
public final class FakeMQTTBroker: Sendable {
    /// The port it listens on (127.0.0.1).
    public let port: Int
    private let channel: any Channel
    private let record: Locked<[String]>
    private let openCount: Locked<Int>

    private init(port: Int, channel: any Channel, record: Locked<[String]>, openCount: Locked<Int>) {
        self.port = port
        self.channel = channel
        self.record = record
        self.openCount = openCount
    }

    /// Starts listening on `127.0.0.1:0`.
    public static func start() async throws -> FakeMQTTBroker {
        let record = Locked<[String]>([])
        let openCount = Locked(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        FakeMQTTBrokerHandler(record: record, openCount: openCount))
                }
            }
            .bind(host: "127.0.0.1", port: FreePort.next()).get()
        return FakeMQTTBroker(
            port: channel.localAddress?.port ?? 0, channel: channel, record: record, openCount: openCount)
    }

    /// Client ids of every CONNECT answered so far, in order.
    public var clientIDs: [String] { record.value }

    /// Client connections open now.
    public var openConnections: Int { openCount.value }

    /// Stops listening (open connections are left to their clients).
    public func stop() async {
        try? await channel.close()
    }
}

/// One fake-broker connection. Event-loop bound.
final class FakeMQTTBrokerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let record: Locked<[String]>
    private let openCount: Locked<Int>
    private var pending: [UInt8] = []
    private var version: MQTTProtocolVersion = .v3_1_1

    init(record: Locked<[String]>, openCount: Locked<Int>) {
        self.record = record
        self.openCount = openCount
    }

    func channelActive(context: ChannelHandlerContext) {
        openCount.withLock { $0 += 1 }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        openCount.withLock { $0 -= 1 }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(contentsOf: unwrapInboundIn(data).readableBytesView)
        // MQTT 3.1.1 §2.2: type byte, Remaining Length varint, body.
        while pending.count >= 2 {
            guard case .value(let length, let size) = MQTTVarInt.decode(pending, from: 1) else {
                if case .malformed = MQTTVarInt.decode(pending, from: 1) { context.close(promise: nil) }
                return
            }
            let total = 1 + size + length
            guard pending.count >= total else { return }
            let packet = Array(pending.prefix(total))
            pending.removeFirst(total)
            answer(packet, context: context)
        }
    }

    private func answer(_ packet: [UInt8], context: ChannelHandlerContext) {
        switch packet[0] >> 4 {
        case 1:
            if case .complete(let connect, _) = MQTTConnectParser.parse(packet, maxPacketSize: .max) {
                version = connect.version
                let clientID = connect.clientID
                record.withLock { $0.append(clientID) }
            }
            let connAck = MQTTConnAck.bytes(version: version, returnCode: MQTTConnAck.accepted)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: connAck)), promise: nil)
        case 12:
            let pong = MQTTPacket.pingResp
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: pong)), promise: nil)
        case 14:
            context.close(promise: nil)
        default:
            break
        }
    }
}
