import FrontConfig
import FrontCore
import FrontSession
import Logging
import MQTTWire
import NIOCore
import NIOSSL
import ProxyProtocol

/// The client side of a session, from accept to close, as the only handler of the client channel
/// (TLS listeners, and every listener without relay threads): the driver of the session's
/// ``SessionMachine``, which makes every decision (the CONNECT's verdict, admission, the dial
/// sequence, replays, deadlines, who is blamed for the close). The handler feeds it what happens
/// (``feed(_:)``) and carries out what it says: channels, sockets, limiters, counters, logs.
///
/// One handler instead of a chain keeps per-session memory small. Deadlines live in the loop's
/// ``TimerWheel``. Event-loop bound: all state is touched on the client channel's loop, which is
/// also the upstream channel's loop.
final class ClientSessionHandler: ChannelDuplexHandler, WheelTimed {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let listener: ListenerRuntime
    let loop: LoopState
    var context: ChannelHandlerContext?
    /// The session's decisions.
    var machine: SessionMachine

    /// Bytes read before the relay began: the CONNECT and whatever the client pipelined after it.
    var pending: ByteBuffer?
    var readPending = false
    /// MQTT: every byte sent upstream while the server has not answered yet (kept while
    /// ``SessionMachine/isReplaying``), for the next server if this one closes first.
    var replay: ByteBuffer?
    var upstream: UpstreamHandler?
    /// MQTT: the broker's packets, from its first byte: where a move may cut its stream.
    var serverPackets: MQTTStreamTracker?
    /// Set while the session is being moved off its server (``beginMove(_:)``).
    var move: ChannelMove?

    // Deadline bookkeeping (see WheelTimed and LoopState).
    var wheelSlot: Int32 = -1
    var wheelPosition: Int32 = -1
    var tablePosition = -1
    /// The wheel tick of the machine's deadline (0: none).
    var machineDeadlineTick: Int64 = 0

    /// The client, the slots it holds, the server it is counted on: what the end books.
    var books = SessionBooks(started: MonotonicTime.now())
    /// The address the client connected to, as a PROXY header reported it (else the listener's own).
    var proxiedDestination: ProxyAddress?
    /// TLS listeners: `accept_rate` was applied at accept, before the handshake, not again at the CONNECT.
    var rateAppliedAtAccept = false
    /// What the last failed dial said, for its log line.
    var dialErrorText = ""
    var bytesIn: UInt64 = 0
    var bytesOut: UInt64 = 0
    private var finished = false

    init(listener: ListenerRuntime, loop: LoopState) {
        self.listener = listener
        self.loop = loop
        self.machine = SessionMachine(settings: listener.sessionSettings, acceptedAt: loop.now())
        loop.handlersAlive.add(1, ordering: .relaxed)
    }

    deinit {
        loop.handlersAlive.subtract(1, ordering: .relaxed)
    }

    /// Where the session is (the machine's phase).
    var phase: SessionMachine.Phase { machine.phase }
    /// The client's CONNECT, once parsed.
    var connect: MQTTConnect? { machine.connect }
    /// The backend the session was routed to.
    var backend: BackendRuntime? { machine.backend }
    /// Why the session ended, once it did.
    var reason: CloseReason? { machine.reason }
    /// The server the session relays to, counted on it.
    var server: ServerRuntime? { books.server }
    var clientAddress: String { books.clientAddress }

    var isClientWritable: Bool { context?.channel.isWritable ?? false }

    /// Whether the client's connection is still in hand (its channel).
    var holdsClient: Bool { context != nil }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress {
            books.setClient(ip: remote.ipAddress ?? "", port: remote.port ?? 0)
        }
        listener.metrics.total.increment()
        listener.metrics.active.increment()
        loop.register(self)
        // One deadline covers the PROXY header, the TLS handshake, the CONNECT and any admission wait.
        arm(machine.deadline)
        context.fireChannelActive()
        admitAtAccept()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let count = UInt64(buffer.readableBytes)
        bytesIn &+= count
        listener.metrics.bytesIn.increment(by: Int64(count))
        switch machine.phase {
        case .relaying:
            if move != nil { relayWhileMoving(buffer) } else { relayToServer(buffer) }
        case .sniffing:
            guard holdConnectBytes(buffer.readableBytes) else { return }
            if pending == nil {
                pending = buffer
            } else {
                pending?.writeBuffer(&buffer)
            }
            pending?.withUnsafeReadableBytes { feed(.clientBytes($0)) }
        case .accepting, .awaitingProxyHeader, .admitting, .awaitingAdmission, .routing, .dialing:
            // Pipelined bytes behind the CONNECT; bounded because reads are withheld while dialing.
            if pending == nil { pending = buffer } else { pending?.writeBuffer(&buffer) }
        case .closing:
            break
        }
    }

    /// Relays client bytes to the broker (flushed at the read-complete).
    func relayToServer(_ buffer: ByteBuffer) {
        _ = buffer.withUnsafeReadableBytes { machine.handle(.clientBytes($0), at: loop.now()) }
        if replay != nil {
            if machine.isReplaying { replay?.writeImmutableBuffer(buffer) } else { replay = nil }
        }
        upstream?.write(buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard machine.phase == .relaying else { return }
        upstream?.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        upstream?.clientWritabilityChanged(context.channel.isWritable)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let header = event as? ProxyHeaderEvent {
            proxyHeader(header)
            return
        }
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if isSayingFarewell {
            farewellClosed(.client, channelGone: false)
            return
        }
        abandonMove()
        feed(.inputClosed(.client))
    }

    func channelInactive(context: ChannelHandlerContext) {
        if isSayingFarewell {
            farewellClosed(.client, channelGone: true)
            return
        }
        abandonMove()
        feed(.clientClosed)
        finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // After its goodbye a client may go away as it likes (on TLS, without close_notify): the
        // move ends the session once its channel is closed.
        if machine.reason == nil, !isSayingFarewell {
            // A TLS failure before the session was relayed is a refusal (bad or missing client certificate,
            // wrong protocol version, not TLS at all); later it is just how the client went away.
            let isTLS = error is NIOSSLError || error is BoringSSLError
            if isTLS {
                listener.logger.debug(
                    "TLS error", metadata: ["client": .string(clientAddress), "error": .string("\(error)")])
            }
            feed(.terminate(isTLS && machine.phase != .relaying ? .tls : .clientClosed))
        }
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        switch machine.phase {
        case .accepting, .awaitingProxyHeader, .sniffing:
            context.read()
        case .relaying where mayReadClient:
            context.read()
        case .relaying, .admitting, .routing, .dialing, .awaitingAdmission:
            readPending = true
        case .closing:
            break
        }
    }

    /// Closes the session (both sides) with `reason`, unless a reason was already recorded.
    func terminate(reason: CloseReason) {
        feed(.terminate(reason))
    }

    // MARK: WheelTimed

    func wheelTickReached(_ tick: Int64) -> Int64? {
        if let move, tick >= move.deadlineTick, machine.phase == .relaying {
            endMoved(move.cause)
            return nil
        }
        // The machine files its next deadline (``arm(_:)``) or closes.
        feed(.tick)
        return nil
    }

    /// Books the end of the session once: counters, gauges, tables, the log line.
    func finish() {
        guard !finished else { return }
        finished = true
        loop.wheel.cancel(self)
        loop.unregister(self)
        books.close(listener, machine: machine, bytes: (bytesIn, bytesOut))
        pending = nil
        upstream = nil
        context = nil
    }
}
