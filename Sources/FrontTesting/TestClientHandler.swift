import NIOCore

/// Collects everything a ``TestClient``'s peer sends and answers the client's waits.
///
/// Event-loop bound: every method runs on the channel's loop (the client reaches it through
/// `NIOLoopBound`), so the buffer needs no lock. Each wait is a promise plus a scheduled timeout.
final class TestClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// What a pending read waits for.
    enum Want {
        /// Exactly this many bytes.
        case count(Int)
        /// Everything up to and including the first occurrence of this sequence.
        case delimiter([UInt8])
        /// Everything until the peer closes.
        case close
    }

    private struct ReadWaiter {
        var want: Want
        var promise: EventLoopPromise<[UInt8]>
        var timeout: Scheduled<Void>
    }

    private struct CloseWaiter {
        var promise: EventLoopPromise<Bool>
        var timeout: Scheduled<Void>
    }

    private var buffer: [UInt8] = []
    private var readWaiter: ReadWaiter?
    private var closeWaiters: [Int: CloseWaiter] = [:]
    private var nextWaiterID = 0
    private(set) var connectedAt: ContinuousClock.Instant?
    private(set) var closedAt: ContinuousClock.Instant?
    private(set) var closeError: (any Error)?
    private var eventLoop: (any EventLoop)?

    func handlerAdded(context: ChannelHandlerContext) {
        eventLoop = context.eventLoop
    }

    func channelActive(context: ChannelHandlerContext) {
        connectedAt = .now
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        buffer.append(contentsOf: bytes.readableBytesView)
        serveReadWaiter()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closeError == nil { closeError = error }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if closedAt == nil { closedAt = .now }
        serveReadWaiter()
        let waiters = closeWaiters
        closeWaiters = [:]
        for waiter in waiters.values {
            waiter.timeout.cancel()
            waiter.promise.succeed(true)
        }
        context.fireChannelInactive()
    }

    /// Bytes received and not yet read.
    var buffered: [UInt8] { buffer }

    /// Takes every buffered byte.
    func takeBuffered() -> [UInt8] {
        defer { buffer.removeAll() }
        return buffer
    }

    /// A future for the bytes `want` describes, failed with ``TestClientError`` on timeout or close.
    func wait(for want: Want, timeout: TimeAmount, on loop: any EventLoop) -> EventLoopFuture<[UInt8]> {
        guard readWaiter == nil else { return loop.makeFailedFuture(TestClientError.concurrentRead) }
        let promise = loop.makePromise(of: [UInt8].self)
        let bound = NIOLoopBound(self, eventLoop: loop)
        let scheduled = loop.scheduleTask(in: timeout) {
            bound.value.expireReadWaiter()
        }
        readWaiter = ReadWaiter(want: want, promise: promise, timeout: scheduled)
        serveReadWaiter()
        return promise.futureResult
    }

    /// A future that is true once the peer closed (at once if it already has), false after `timeout`.
    func waitForClose(timeout: TimeAmount, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        if closedAt != nil { return loop.makeSucceededFuture(true) }
        let promise = loop.makePromise(of: Bool.self)
        let id = nextWaiterID
        nextWaiterID += 1
        let bound = NIOLoopBound(self, eventLoop: loop)
        let scheduled = loop.scheduleTask(in: timeout) {
            bound.value.expireCloseWaiter(id)
        }
        closeWaiters[id] = CloseWaiter(promise: promise, timeout: scheduled)
        return promise.futureResult
    }

    private func expireReadWaiter() {
        guard let waiter = readWaiter else { return }
        readWaiter = nil
        waiter.promise.fail(TestClientError.timedOut(received: buffer))
    }

    private func expireCloseWaiter(_ id: Int) {
        guard let waiter = closeWaiters.removeValue(forKey: id) else { return }
        waiter.promise.succeed(false)
    }

    /// Completes the pending read if the buffer now satisfies it, or fails it if the peer closed.
    private func serveReadWaiter() {
        guard let waiter = readWaiter else { return }
        var taken: [UInt8]?
        switch waiter.want {
        case .count(let count) where buffer.count >= count:
            taken = Array(buffer.prefix(count))
            buffer.removeFirst(count)
        case .delimiter(let delimiter):
            if let end = Self.endOfFirst(delimiter, in: buffer) {
                taken = Array(buffer.prefix(end))
                buffer.removeFirst(end)
            }
        case .close where closedAt != nil:
            taken = buffer
            buffer.removeAll()
        default:
            break
        }
        if let taken {
            readWaiter = nil
            waiter.timeout.cancel()
            waiter.promise.succeed(taken)
        } else if closedAt != nil {
            readWaiter = nil
            waiter.timeout.cancel()
            waiter.promise.fail(TestClientError.closed(received: buffer))
        }
    }

    /// Index just past the first occurrence of `needle` in `haystack`.
    static func endOfFirst(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start + needle.count
        }
        return nil
    }
}
