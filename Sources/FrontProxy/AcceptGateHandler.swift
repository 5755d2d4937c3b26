import NIOCore

/// Sits first in a listening channel's pipeline and stops accepting while the listener's or the
/// process's connection cap is reached: `read()` is withheld, new connections wait in the kernel's
/// backlog, and accepting resumes when a slot frees. No accept-and-reset loop.
///
/// Each `read()` is sized (`maxMessagesPerRead`) to the free slots, so one read never accepts past
/// the cap; a connection that still overshoots (two listeners racing for the last global slot) is
/// closed at once and counted as `limit`. Event-loop bound: one instance per listening channel.
final class AcceptGateHandler: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    private let listenerLimiter: ConnectionLimiter
    private let globalLimiter: ConnectionLimiter
    private let onOvershoot: @Sendable () -> Void
    private var readPending = false
    private var context: ChannelHandlerContext?

    init(listener: ConnectionLimiter, global: ConnectionLimiter, onOvershoot: @escaping @Sendable () -> Void) {
        self.listenerLimiter = listener
        self.globalLimiter = global
        self.onOvershoot = onOvershoot
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let loop = context.eventLoop
        // The limiters call back from any thread; the weak reference is only opened on `loop`.
        let reference = NIOLoopBound(WeakGate(self), eventLoop: loop)
        let wake: @Sendable () -> Void = {
            loop.execute { reference.value.gate?.slotFreed() }
        }
        listenerLimiter.onSlotFreed(wake)
        globalLimiter.onSlotFreed(wake)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func read(context: ChannelHandlerContext) {
        let free = min(listenerLimiter.available, globalLimiter.available)
        guard free > 0 else {
            readPending = true
            return
        }
        context.channel.setOptionSync(ChannelOptions.maxMessagesPerRead, value: UInt(min(free, 16)))
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        guard listenerLimiter.tryAcquire() else {
            child.close(promise: nil)
            onOvershoot()
            return
        }
        guard globalLimiter.tryAcquire() else {
            listenerLimiter.release()
            child.close(promise: nil)
            onOvershoot()
            return
        }
        let listener = listenerLimiter
        let global = globalLimiter
        child.closeFuture.whenComplete { _ in
            listener.release()
            global.release()
        }
        context.fireChannelRead(data)
    }

    private func slotFreed() {
        guard readPending, let context else { return }
        readPending = false
        read(context: context)
    }
}

extension Channel {
    /// Sets an option from the channel's own event loop without a future.
    fileprivate func setOptionSync<Option: ChannelOption>(_ option: Option, value: Option.Value) {
        if let sync = syncOptions {
            try? sync.setOption(option, value: value)
        }
    }
}

/// A weak reference to a gate, so the limiters' callbacks do not keep a closed listener alive.
private final class WeakGate {
    weak var gate: AcceptGateHandler?
    init(_ gate: AcceptGateHandler) { self.gate = gate }
}
