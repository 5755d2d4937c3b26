import NIOCore

/// Sits first in a listening channel's pipeline and stops accepting while the listener's or the
/// process's connection cap is reached: `read()` is withheld, new connections wait in the kernel's
/// backlog, and accepting resumes when a slot frees. No accept-and-reset loop.
///
/// Each `read()` is sized (`maxMessagesPerRead`) to the free slots, so one read rarely accepts past
/// the cap. A connection that still overshoots (the listener's sockets on other loops, or another
/// listener, took the last slots at the same moment) is parked: accepted but not registered, so the
/// client sees what it would in the backlog (connected, no answer yet) until a slot frees; parked
/// connections go first, and no more are accepted while any waits. Only past `parkLimit` is one
/// closed and counted as `limit`. Event-loop bound: one instance per listening channel.
final class AcceptGateHandler: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    private let listenerLimiter: ConnectionLimiter
    private let globalLimiter: ConnectionLimiter
    private let onOvershoot: @Sendable () -> Void
    private var readPending = false
    private var context: ChannelHandlerContext?
    /// Accepted connections waiting for a slot, oldest first.
    private var parked = CircularBuffer<any Channel>()
    /// More parked than this means the reads are not sized as they should be: close instead.
    static let parkLimit = 256

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
        closeParked()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeParked()
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        guard parked.isEmpty else {
            readPending = true
            return
        }
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
        guard parked.isEmpty, acquire(for: child) else {
            guard parked.count < Self.parkLimit else {
                child.close(promise: nil)
                onOvershoot()
                return
            }
            parked.append(child)
            return
        }
        context.fireChannelRead(data)
    }

    /// Takes a slot of the listener and of the process for `child`, given back when it closes.
    private func acquire(for child: any Channel) -> Bool {
        guard listenerLimiter.tryAcquire() else { return false }
        guard globalLimiter.tryAcquire() else {
            listenerLimiter.release()
            return false
        }
        let listener = listenerLimiter
        let global = globalLimiter
        child.closeFuture.whenComplete { _ in
            listener.release()
            global.release()
        }
        return true
    }

    private func slotFreed() {
        guard let context else { return }
        while let child = parked.first, acquire(for: child) {
            parked.removeFirst()
            context.fireChannelRead(wrapInboundOut(child))
        }
        guard parked.isEmpty, readPending else { return }
        readPending = false
        read(context: context)
    }

    private func closeParked() {
        while let child = parked.popFirst() { child.close(promise: nil) }
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
