import MQTTWire
import NIOCore

/// What one bench connection does once connected.
public enum BenchRole: Sendable {
    /// Holds the session, answering keepalive with PINGREQ.
    case idle
    /// Subscribes to `topic` and measures the round trip of every PUBLISH it receives.
    case subscriber(topic: String)
    /// Publishes to `topic` once told to (``PublishCommand``).
    case publisher(topic: String)
}

/// Tells a publisher to start or stop; sent through the pipeline as a user inbound event.
public enum PublishCommand: Sendable {
    /// Publish `ratePerSecond` messages a second (0 = no pacing), keeping at most `window` unconfirmed by
    /// the paired subscriber (0 = no window).
    case start(ratePerSecond: Double, window: Int)
    /// Stop publishing and pinging (the hold is over; answers still in flight are counted).
    case stop
    /// Send DISCONNECT and close; a close after this is not a drop.
    case disconnect
}

/// Ties a publisher to its subscriber so deliveries open the publisher's window. Both connections run
/// on the same event loop; the link is only ever touched there.
final class PairLink {
    /// The publisher of the pair, once its connection exists.
    weak var publisher: BenchClientHandler?
}

/// The one handler of a bench connection: CONNECT, CONNACK, keepalive, subscribe, publish, measure.
///
/// Runs on its channel's event loop only. Counts everything in the shared ``BenchStats``.
final class BenchClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State { case connecting, connected, closing, closed }

    private let settings: BenchClientSettings
    private let clientID: String
    private let role: BenchRole
    private let stats: BenchStats
    private let link: PairLink?
    private let startedAt: UInt64
    private let attempt: BenchAttempt
    private let onConnected: @Sendable (any Channel) -> Void
    private let onEnded: (@Sendable (BenchAttempt.Outcome) -> Void)?
    private var state = State.connecting
    private var pending: ByteBuffer?
    private var connAckTimer: Scheduled<Void>?
    private var pingTask: RepeatedTask?
    private var paceTask: RepeatedTask?
    private var context: ChannelHandlerContext?
    // Publisher state.
    private var publishing = false
    private var window = 0
    private var inFlight = 0
    private var rate = 0.0
    private var paceStart: UInt64 = 0
    private var paced = 0
    private var nextPacketID: UInt16 = 1

    init(
        settings: BenchClientSettings, clientID: String, role: BenchRole, stats: BenchStats, link: PairLink?,
        startedAt: UInt64, attempt: BenchAttempt = .first, onConnected: @escaping @Sendable (any Channel) -> Void,
        onEnded: (@Sendable (BenchAttempt.Outcome) -> Void)? = nil
    ) {
        self.settings = settings
        self.clientID = clientID
        self.role = role
        self.stats = stats
        self.link = link
        self.startedAt = startedAt
        self.attempt = attempt
        self.onConnected = onConnected
        self.onEnded = onEnded
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if case .publisher = role { link?.publisher = self }
    }

    func channelActive(context: ChannelHandlerContext) {
        let will = settings.willTopicPrefix.map { MQTTWill(topic: "\($0)/\(clientID)", payload: Array(clientID.utf8)) }
        let connect = MQTTConnect(
            version: settings.version, cleanStart: true, keepAlive: settings.keepAlive, clientID: clientID, will: will)
        write(connect.encode(), context: context, flush: true)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        connAckTimer = context.eventLoop.scheduleTask(in: settings.connAckTimeout) {
            let handler = bound.value
            guard handler.state == .connecting else { return }
            handler.state = .closing
            handler.fail(.timeout)
            handler.context?.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if var buffer = pending {
            buffer.writeBuffer(&incoming)
            incoming = buffer
        }
        while incoming.readableBytes > 0, state != .closed {
            let frame = incoming.withUnsafeReadableBytes { MQTTFrameSplitter.next($0) }
            switch frame {
            case .needMoreData:
                pending = incoming
                return
            case .malformed:
                pending = nil
                context.close(promise: nil)
                return
            case .packet(let header, let bodyOffset, let total):
                incoming.withUnsafeReadableBytes { bytes in
                    let body = UnsafeRawBufferPointer(rebasing: bytes[bodyOffset..<total])
                    handlePacket(header: header, body: body, context: context)
                }
                incoming.moveReaderIndex(forwardBy: total)
            }
        }
        pending = nil
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, publishing, window > 0 { pump(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let command = event as? PublishCommand else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch command {
        case .start(let ratePerSecond, let window):
            guard state == .connected, case .publisher = role else { return }
            publishing = true
            self.window = window
            rate = ratePerSecond
            paceStart = BenchClock.now()
            paced = 0
            if rate > 0 {
                let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
                paceTask = context.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(5)) { _ in
                    bound.value.pace()
                }
            } else {
                pump(context: context)
            }
        case .stop:
            publishing = false
            paceTask?.cancel()
            paceTask = nil
            pingTask?.cancel()
            pingTask = nil
        case .disconnect:
            publishing = false
            guard state == .connected || state == .connecting else { return }
            if state == .connecting {
                fail(.timeout)
            } else {
                stats.active.subtract(1, ordering: .relaxed)
            }
            state = .closing
            write(MQTTPacket.disconnect, context: context, flush: true)
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .connecting: fail(.closed)
        case .connected:
            stats.recordServerClose(at: BenchClock.now())
            onEnded?(.closedByServer)
        case .closing, .closed: break
        }
        state = .closed
        connAckTimer?.cancel()
        pingTask?.cancel()
        paceTask?.cancel()
        pending = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Called by the paired subscriber (same event loop) when one of this publisher's messages arrived.
    func delivered() {
        inFlight = max(0, inFlight - 1)
        if publishing, window > 0, let context { pump(context: context) }
    }

    // MARK: - Packets

    private func handlePacket(header: UInt8, body: UnsafeRawBufferPointer, context: ChannelHandlerContext) {
        switch header >> 4 {
        case 2: handleConnAck(body: body, context: context)
        case 3:
            guard let publish = BenchPackets.parsePublish(header: header, body: body, version: settings.version)
            else { return }
            if let sentAt = publish.sentAt {
                let now = BenchClock.now()
                stats.recordRoundTrip(nanos: now > sentAt ? now - sentAt : 0)
            } else {
                stats.received.add(1, ordering: .relaxed)
            }
            if publish.qos == 1 {
                write(BenchPackets.pubAck(packetID: publish.packetID), context: context, flush: false)
            }
            link?.publisher?.delivered()
        case 9: stats.subscribed.add(1, ordering: .relaxed)
        case 13: stats.pongs.add(1, ordering: .relaxed)
        case 14:
            // MQTT 5.0 §3.14.2.1: the reason code is the first body byte; no body means 0x00.
            stats.reconnect.recordDisconnect(reason: body.first ?? 0x00)
            context.close(promise: nil)
        default: break
        }
    }

    private func handleConnAck(body: UnsafeRawBufferPointer, context: ChannelHandlerContext) {
        guard state == .connecting else { return }
        connAckTimer?.cancel()
        let code = body.count >= 2 ? body[1] : 0xFF
        guard code == 0 else {
            state = .closing
            fail(.refused)
            context.close(promise: nil)
            return
        }
        let now = BenchClock.now()
        switch attempt {
        case .first: stats.recordConnAck(latencyNanos: now > startedAt ? now - startedAt : 0, at: now)
        case .reconnect: stats.recordReconnectConnAck(at: now)
        }
        state = .connected
        if settings.closeAfterConnAck {
            state = .closing
            stats.active.subtract(1, ordering: .relaxed)
            stats.completed.add(1, ordering: .relaxed)
            write(MQTTPacket.disconnect, context: context, flush: true)
            context.close(promise: nil)
            return
        }
        onConnected(context.channel)
        if settings.keepAlive > 0 {
            let period = TimeAmount.seconds(Int64(settings.keepAlive))
            // Spread the first ping over one period so held sessions do not ping in lockstep.
            let first = TimeAmount.nanoseconds(Int64.random(in: 0..<period.nanoseconds))
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: first, delay: period) { _ in
                let handler = bound.value
                guard handler.state == .connected, let context = handler.context else { return }
                handler.stats.pings.add(1, ordering: .relaxed)
                handler.write(MQTTPacket.pingReq, context: context, flush: true)
            }
        }
        if case .subscriber(let topic) = role {
            let subscribe = BenchPackets.subscribe(
                packetID: 1, topicFilter: topic, qos: settings.qos, version: settings.version)
            write(subscribe, context: context, flush: true)
        }
    }

    /// Counts an attempt that never reached a successful CONNACK and reports it.
    private func fail(_ reason: BenchStats.FailureReason) {
        switch attempt {
        case .first: stats.recordFailure(reason)
        case .reconnect: stats.recordReconnectFailure()
        }
        onEnded?(.failed)
    }

    // MARK: - Publishing

    /// Window mode: fill the window while the channel takes writes.
    private func pump(context: ChannelHandlerContext) {
        var wrote = false
        while publishing, inFlight < window, context.channel.isWritable {
            publishOne(context: context)
            wrote = true
        }
        if wrote { context.flush() }
    }

    /// Rate mode: send what the schedule says is due by now (bounded per tick), skipping while not writable.
    private func pace() {
        guard publishing, let context else { return }
        let elapsed = Double(BenchClock.now() - paceStart) / 1e9
        let due = Int(rate * elapsed) - paced
        guard due > 0 else { return }
        let batch = min(due, 10_000)
        var sent = 0
        while sent < batch, context.channel.isWritable {
            publishOne(context: context)
            sent += 1
        }
        paced += batch
        if sent > 0 { context.flush() }
    }

    private func publishOne(context: ChannelHandlerContext) {
        guard case .publisher(let topic) = role else { return }
        let packetID = nextPacketID
        nextPacketID = nextPacketID == UInt16.max ? 1 : nextPacketID + 1
        let packet = BenchPackets.publish(
            topic: topic, sentAt: BenchClock.now(), payloadSize: settings.payloadSize, qos: settings.qos,
            packetID: packetID, version: settings.version)
        inFlight += 1
        stats.published.add(1, ordering: .relaxed)
        write(packet, context: context, flush: false)
    }

    private func write(_ bytes: [UInt8], context: ChannelHandlerContext, flush: Bool) {
        let buffer = context.channel.allocator.buffer(bytes: bytes)
        if flush {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        } else {
            context.write(wrapOutboundOut(buffer), promise: nil)
        }
    }
}
