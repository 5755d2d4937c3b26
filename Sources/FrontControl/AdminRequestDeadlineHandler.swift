import NIOCore
import NIOHTTPTypes

/// Closes an admin connection whose request body does not arrive whole within ``limit`` of its head.
///
/// Hummingbird's idle timeout covers a connection that sends nothing and a request head that never
/// completes, but every body part counts as activity, so a body dripped a byte at a time would hold a
/// connection slot for hours. This bounds the rest of the request. Sits after the HTTP decoder (it
/// sees request parts); event-loop bound, one per connection.
final class AdminRequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// How long a request may take from its head to its end.
    let limit: TimeAmount
    private var deadline: Scheduled<Void>?

    init(limit: TimeAmount) {
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: limit) { loopBound.value.close(promise: nil) }
        case .body:
            break
        case .end:
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}
