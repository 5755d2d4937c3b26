import Logging
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sits in a listening channel's pipeline and stops accepting for a while when `accept` fails for
/// lack of a resource (EMFILE, ENFILE, ENOBUFS, ENOMEM): read interest is dropped (`autoRead` off),
/// connections wait in the kernel's backlog, and after a back-off (100 ms doubling to 1 s) one
/// connection is tried again.
///
/// Needed because NIO leaves a listening channel's read pending when its first `accept` of a read
/// fails, so NIO's `AcceptBackoffHandler` never gets a `read()` to defer and the level-triggered
/// listener spins `epoll_wait` → `accept4` = EMFILE on a whole core. Event-loop bound.
public final class AcceptPauseHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = any Channel
    public typealias InboundOut = any Channel

    static let firstBackoff = TimeAmount.milliseconds(100)
    static let longestBackoff = TimeAmount.seconds(1)

    private let logger: Logger
    private let name: String
    /// The pause the next shortage gets.
    private(set) var nextBackoff = AcceptPauseHandler.firstBackoff
    private var resume: Scheduled<Void>?
    /// Pauses since the last accepted connection; 0 while accepting normally.
    private var pausesInRow = 0

    /// `name` labels the log lines (a listener name, or "admin").
    public init(name: String, logger: Logger) {
        self.name = name
        self.logger = logger
    }

    /// True for accept errors that say the process (or system) is out of a resource, not that the
    /// connection was bad.
    public static func isResourceShortage(_ error: any Error) -> Bool {
        guard let error = error as? IOError else { return false }
        return [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if pausesInRow > 0 {
            logger.notice(
                "accepting again", metadata: ["listener": .string(name), "pauses": .stringConvertible(pausesInRow)])
            pausesInRow = 0
            nextBackoff = Self.firstBackoff
        }
        context.fireChannelRead(data)
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard Self.isResourceShortage(error) else {
            context.fireErrorCaught(error)
            return
        }
        guard resume == nil, let options = context.channel.syncOptions else { return }
        if pausesInRow == 0 {
            logger.warning(
                "accept paused: out of descriptors or memory; connections wait in the backlog",
                metadata: ["listener": .string(name), "error": .string("\(error)")])
        }
        pausesInRow += 1
        try? options.setOption(ChannelOptions.autoRead, value: false)
        let delay = nextBackoff
        nextBackoff = min(nextBackoff * 2, Self.longestBackoff)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        resume = context.eventLoop.scheduleTask(in: delay) {
            let (handler, context) = loopBound.value
            handler.resumeAccepting(context: context)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        resume?.cancel()
        resume = nil
        context.fireChannelInactive()
    }

    private func resumeAccepting(context: ChannelHandlerContext) {
        resume = nil
        guard context.channel.isActive, let options = context.channel.syncOptions else { return }
        // `autoRead` on reads straight from the socket, past any gate in the pipeline: one connection,
        // then the pipeline's next `read()` sizes the batch again.
        try? options.setOption(ChannelOptions.maxMessagesPerRead, value: 1)
        try? options.setOption(ChannelOptions.autoRead, value: true)
    }
}
