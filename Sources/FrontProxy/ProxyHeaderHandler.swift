import NIOCore
import ProxyProtocol

/// What the PROXY header step tells the session handler behind it.
enum ProxyHeaderEvent {
    /// A valid header: the real client (and the address it connected to), nil for LOCAL/UNKNOWN.
    case received(source: ProxyAddress?, destination: ProxyAddress?)
    /// No valid header: the connection must be refused (reason `proxy_protocol`).
    case invalid(String)
}

/// First in the pipeline of a listener with `accept_proxy_protocol`: reads the PROXY v1/v2 header
/// an upstream balancer sends before anything else (before TLS, too), tells the session handler
/// who the real client is, passes on what followed the header, and removes itself. The header is
/// bounded by the parser's cap; its deadline is the listener's `connect_timeout`, which the session
/// handler keeps. Event-loop bound.
final class ProxyHeaderHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var buffer: ByteBuffer?
    private var done = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else {
            context.fireChannelRead(data)
            return
        }
        var incoming = unwrapInboundIn(data)
        if buffer == nil { buffer = incoming } else { buffer?.writeBuffer(&incoming) }
        guard let bytes = buffer else { return }
        let result = bytes.withUnsafeReadableBytes { ProxyHeaderParser.parse($0) }
        switch result {
        case .needMoreData:
            return
        case .invalid(let error):
            done = true
            buffer = nil
            context.fireUserInboundEventTriggered(ProxyHeaderEvent.invalid("\(error)"))
        case .complete(let header, let length):
            done = true
            var rest = bytes
            rest.moveReaderIndex(forwardBy: length)
            buffer = nil
            context.fireUserInboundEventTriggered(
                ProxyHeaderEvent.received(source: header.source, destination: header.destination))
            if rest.readableBytes > 0 {
                context.fireChannelRead(wrapInboundOut(rest))
                context.fireChannelReadComplete()
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }
}
