import NIOCore

/// The server side of a relayed session: hands what the broker sends to its ``ClientSessionHandler``
/// and withholds reads while the client cannot take more. Event-loop bound (the client's loop).
final class UpstreamHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The client side; cleared when either side closes, which breaks the reference cycle.
    var partner: ClientSessionHandler?
    private(set) var context: ChannelHandlerContext?
    private var readPending = false

    init(partner: ClientSessionHandler) {
        self.partner = partner
    }

    var channel: (any Channel)? { context?.channel }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.deliverFromServer(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.flushToClient()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        partner?.upstreamWritabilityChanged(context.channel.isWritable)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            partner?.serverInputClosed()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let partner = self.partner
        self.partner = nil
        partner?.upstreamClosed()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if partner?.mayReadServer ?? true {
            context.read()
        } else {
            readPending = true
        }
    }

    /// The client became writable again: resume reading from the broker.
    func clientWritabilityChanged(_ writable: Bool) {
        if writable { resumeReads() }
    }

    /// Reads the broker again if a read was withheld and its partner may take more now.
    func resumeReads() {
        guard readPending, partner?.mayReadServer ?? true, let context else { return }
        readPending = false
        context.read()
    }

    /// Writes client bytes toward the broker (flushed at the client's read-complete).
    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    /// Half-closes toward the broker (the client sent FIN).
    func shutdownOutput() {
        context?.close(mode: .output, promise: nil)
    }

    /// Closes the upstream connection.
    func close() {
        context?.close(promise: nil)
    }
}
