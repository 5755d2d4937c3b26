import MQTTWire
import NIOCore

/// A minimal MQTT endpoint for one connection: CONNACK to CONNECT, PINGRESP to PINGREQ, SUBACK to
/// SUBSCRIBE, PUBACK to QoS 1 PUBLISH, close on DISCONNECT; everything else is swallowed.
///
/// Stands in for a broker when a benchmark needs more sessions than one broker process can hold.
/// Runs on its channel's event loop; keeps no buffer between packets unless one is split across reads.
final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let counters: SinkCounters
    private var version = MQTTProtocolVersion.v3_1_1
    private var pending: ByteBuffer?

    init(counters: SinkCounters) {
        self.counters = counters
    }

    func channelActive(context: ChannelHandlerContext) {
        counters.opened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        counters.closed()
        pending = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if var buffer = pending {
            buffer.writeBuffer(&incoming)
            incoming = buffer
        }
        pending = nil
        while incoming.readableBytes > 0 {
            switch incoming.withUnsafeReadableBytes({ MQTTFrameSplitter.next($0) }) {
            case .needMoreData:
                // Bounded: a split packet larger than 1 MiB is not something this sink serves.
                guard incoming.readableBytes <= 1 << 20 else {
                    context.close(promise: nil)
                    return
                }
                pending = incoming
                return
            case .malformed:
                context.close(promise: nil)
                return
            case .packet(let header, let bodyOffset, let total):
                let reply: [UInt8]? = incoming.withUnsafeReadableBytes { bytes in
                    answer(header: header, body: UnsafeRawBufferPointer(rebasing: bytes[bodyOffset..<total]))
                }
                incoming.moveReaderIndex(forwardBy: total)
                if header >> 4 == 14 {
                    context.close(promise: nil)
                    return
                }
                if let reply {
                    context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: reply)), promise: nil)
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The reply to one packet, if any.
    private func answer(header: UInt8, body: UnsafeRawBufferPointer) -> [UInt8]? {
        switch header >> 4 {
        case 1:
            version = BenchPackets.connectVersion(body: body) ?? .v3_1_1
            counters.connAcked()
            return MQTTConnAck.bytes(version: version, returnCode: MQTTConnAck.accepted)
        case 3:
            guard (header >> 1) & 0x03 == 1,
                let publish = BenchPackets.parsePublish(header: header, body: body, version: version)
            else { return nil }
            return BenchPackets.pubAck(packetID: publish.packetID)
        case 8:
            guard let packetID = BenchPackets.packetID(body: body) else { return nil }
            return BenchPackets.subAck(packetID: packetID, granted: 0, version: version)
        case 12: return MQTTPacket.pingResp
        default: return nil
        }
    }
}
