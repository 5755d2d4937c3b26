import FrontConfig
import FrontCore
import FrontSession
import Logging
import MQTTWire
import NIOCore
import NIOSSL
import ProxyProtocol

/// The client side of a session, from accept to close, as the only handler of the client channel:
/// sniff the MQTT CONNECT (or nothing, on `tcp`), route, dial, then relay bytes with backpressure.
///
/// One handler instead of a chain keeps per-session memory small. Deadlines (connect, idle) live in
/// the loop's ``TimerWheel``. Event-loop bound: all state is touched on the client channel's loop,
/// which is also the upstream channel's loop.
final class ClientSessionHandler: ChannelDuplexHandler, WheelTimed {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase {
        /// Waiting for the PROXY header (`accept_proxy_protocol`); ``ProxyHeaderHandler`` reads it.
        case awaitingProxyHeader
        /// Waiting for a complete CONNECT (mqtt listeners only).
        case sniffing
        /// Admitted by every filter but over `accept_rate`: queued, reads withheld, the connect deadline running.
        case awaitingAdmission
        /// Choosing and connecting to a server; client reads are withheld.
        case dialing
        /// Bytes flow both ways.
        case relaying
        /// Closing; nothing more is read or routed.
        case closing
    }

    let listener: ListenerRuntime
    let loop: LoopState
    var context: ChannelHandlerContext?
    var phase: Phase = .sniffing

    /// Bytes read before the relay began: the CONNECT and whatever the client pipelined after it.
    var pending: ByteBuffer?
    var readPending = false
    /// MQTT only: every byte sent upstream while the server has not answered yet, so that a broker
    /// that dies between accepting and its CONNACK can be replaced without the client noticing.
    var replay: ByteBuffer?
    var upstream: UpstreamHandler?
    var clientInputClosed = false
    var serverInputClosedFlag = false

    // Deadline bookkeeping (see WheelTimed and LoopState).
    var wheelSlot: Int32 = -1
    var wheelPosition: Int32 = -1
    var tablePosition = -1
    var lastActivityTick: Int64 = 0
    var idleTicks: Int64 = 0
    var connectDeadlineTick: Int64 = 0

    // What the session log line reports.
    let started = MonotonicTime.now()
    var clientAddress = "-"
    var clientIP = ""
    var clientPort = 0
    /// The address the client connected to, as a PROXY header reported it (else the listener's own).
    var proxiedDestination: ProxyAddress?
    /// Whether this session holds a slot of its source IP's `per_source_ip` count (taken at accept,
    /// or after the PROXY header).
    var holdsSourceSlot = false
    /// TLS listeners: `accept_rate` was applied at accept, before the handshake, not again at the CONNECT.
    var rateAppliedAtAccept = false
    /// Bytes of a CONNECT still arriving counted in the listener's `max_pending_connect_bytes`.
    var heldConnectBytes = 0
    /// MQTT 5: the first bytes from the broker, until its CONNACK (Server Keep Alive) is read.
    var connackProbe: ConnAckKeepAliveProbe?
    /// MQTT: packet boundaries of what the client sends, to notice its DISCONNECT.
    var clientStream: MQTTStreamTracker?
    var connect: MQTTConnect?
    /// Subject CN of the client certificate (TLS listeners with `client_ca`).
    var certificateCN: String?
    var backend: BackendRuntime?
    var server: ServerRuntime?
    var serverMetrics: ServerMetrics?
    var snapshotMetrics: SnapshotMetrics?
    /// The source IP taken from the server's `source_ips` pool (given back when the session ends).
    var sourceIP: String?
    /// Without a pool, the IP the kernel chose for the server socket: the log line's and the
    /// sessions listing's `source` all the same.
    var upstreamLocalIP: String?
    /// The source port the front picked (`source_ports`); 0 when the kernel picked it.
    var sourcePort: UInt16 = 0
    /// Dials retried on another source port because this one was taken outside our pool.
    var portCollisions: UInt8 = 0
    var tried: [ServerRuntime] = []
    var attemptsLeft = 0
    /// Servers that closed on the CONNECT without answering (``serverClosedUnanswered(_:)``).
    var unansweredCloses: UInt8 = 0
    var bytesIn: UInt64 = 0
    var bytesOut: UInt64 = 0
    var reason: CloseReason?
    /// Which side sent its FIN first, so a close that follows a half-close is blamed on the right side.
    var firstToFinish: CloseReason?
    /// Set once a relay thread carries the session's bytes (``considerHandOff()``).
    var relay: RelayLink?
    var handOffQueued = false
    /// The wheel tick at which the session may be handed off (0: not waiting for one).
    var handOffTick: Int64 = 0
    /// The session lived long enough to be handed off at the next quiet moment.
    var handOffDue = false
    /// The channels' descriptors could not be taken: the session stays on its channels.
    var handOffRefused = false
    /// `relay_connect`: the wheel tick by which the relay thread's connect must have completed (0: none pending).
    var relayConnectDeadline: Int64 = 0
    /// `relay_connect`: the bytes for the next server after the relay thread lost one before it answered.
    var relayResend: [UInt8]?
    /// `relay_accept`: the client's socket, accepted by a relay thread, until the first dial moves it
    /// there with the server's; -1 otherwise.
    var acceptedFD: CInt = -1
    private var finished = false

    init(listener: ListenerRuntime, loop: LoopState) {
        self.listener = listener
        self.loop = loop
        loop.handlersAlive.add(1, ordering: .relaxed)
    }

    deinit {
        loop.handlersAlive.subtract(1, ordering: .relaxed)
    }

    var isClientWritable: Bool { context?.channel.isWritable ?? false }

    /// Whether the client's connection is still in hand: its channel, its socket accepted by a relay
    /// thread (``acceptedFD``), or its session on a relay thread.
    var holdsClient: Bool { context != nil || relay != nil || acceptedFD >= 0 }

    /// Keeps the listener's and the process's connection slots while the session's channels close
    /// for a relay thread (their close gives back those of the accept gate).
    func retainConnectionSlots() {
        listener.limiter.retain()
        loop.globalLimiter?.retain()
    }

    /// Gives back the connection slots a session without a channel holds: retained at its move, or
    /// taken by the relay thread that accepted it.
    func releaseConnectionSlots() {
        listener.limiter.release()
        loop.globalLimiter?.release()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.channel.remoteAddress {
            setClient(ip: remote.ipAddress ?? "", port: remote.port ?? 0)
        }
        listener.metrics.total.increment()
        listener.metrics.active.increment()
        loop.register(self)
        // One deadline covers the PROXY header, the TLS handshake, the CONNECT and any admission wait.
        // +1: tickNow() rounds down, so without it the deadline could fire up to one tick early.
        connectDeadlineTick = loop.tickNow() + TimerWheel.ticks(for: listener.config.connectTimeout) + 1
        loop.wheel.schedule(self, at: connectDeadlineTick)
        context.fireChannelActive()
        admitAtAccept()
    }

    /// Records the client's address (from the socket, or from a PROXY header).
    func setClient(ip: String, port: Int) {
        clientIP = ip
        clientPort = port
        clientAddress = Endpoint(host: ip, port: port).description
    }

    /// The client's address is known: an MQTT listener now waits for the CONNECT, a tcp one is admitted.
    func clientIdentified() {
        switch listener.config.protocol {
        case .mqtt:
            phase = .sniffing
            if pending != nil { sniff() }
        case .tcp:
            admit()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let count = UInt64(buffer.readableBytes)
        bytesIn &+= count
        listener.metrics.bytesIn.increment(by: Int64(count))
        switch phase {
        case .relaying:
            lastActivityTick = loop.tickNow()
            if clientStream != nil { trackClient(buffer) }
            if replay != nil {
                if (replay?.readableBytes ?? 0) + buffer.readableBytes > listener.config.maxConnectSize * 2 {
                    replay = nil
                } else {
                    replay?.writeImmutableBuffer(buffer)
                }
            }
            upstream?.write(buffer)
        case .sniffing:
            guard holdConnectBytes(buffer.readableBytes) else { return }
            if pending == nil {
                pending = buffer
            } else {
                pending?.writeBuffer(&buffer)
            }
            sniff()
        case .awaitingProxyHeader, .awaitingAdmission, .dialing:
            // Pipelined bytes behind the CONNECT; bounded because reads are withheld while dialing.
            if pending == nil { pending = buffer } else { pending?.writeBuffer(&buffer) }
        case .closing:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard phase == .relaying else { return }
        upstream?.flush()
        considerHandOff()
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
        clientInputClosed = true
        if firstToFinish == nil { firstToFinish = .clientClosed }
        switch phase {
        case .relaying:
            if serverInputClosedFlag {
                terminate(reason: firstToFinish ?? .clientClosed)
            } else {
                upstream?.shutdownOutput()
            }
        case .dialing:
            break  // applied when the relay starts
        case .awaitingProxyHeader, .sniffing, .awaitingAdmission, .closing:
            terminate(reason: .clientClosed)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Closed by the hand-off: the relay thread holds the connection now.
        if relay != nil { return }
        if reason == nil { reason = firstToFinish ?? .clientClosed }
        phase = .closing
        upstream?.close()
        finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if reason == nil {
            // A TLS failure before the session was relayed is a refusal (bad or missing client certificate,
            // wrong protocol version, not TLS at all); later it is just how the client went away.
            let isTLS = error is NIOSSLError || error is BoringSSLError
            reason = isTLS && phase != .relaying ? .tls : .clientClosed
            if isTLS {
                listener.logger.debug(
                    "TLS error", metadata: ["client": .string(clientAddress), "error": .string("\(error)")])
            }
        }
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        switch phase {
        case .awaitingProxyHeader, .sniffing:
            context.read()
        case .relaying where upstream?.isWritable ?? false:
            context.read()
        case .relaying, .dialing, .awaitingAdmission:
            readPending = true
        case .closing:
            break
        }
    }

    /// Follows the client's packets; a DISCONNECT makes the client the side that ended the session,
    /// whoever closes the socket first afterwards.
    func trackClient(_ buffer: ByteBuffer) {
        let disconnect = buffer.withUnsafeReadableBytes { clientStream.feedUntilDone($0) }
        if disconnect, firstToFinish == nil { firstToFinish = .clientClosed }
    }

    /// Closes the session (both sides) with `reason`, unless a reason was already recorded.
    func terminate(reason: CloseReason) {
        if self.reason == nil { self.reason = reason }
        phase = .closing
        if let relay { loop.relay?.close(relay) }
        upstream?.close()
        context?.close(promise: nil)
        closeAccepted()
    }

    // MARK: WheelTimed

    func wheelTickReached(_ tick: Int64) -> Int64? {
        switch phase {
        case .awaitingProxyHeader, .sniffing, .awaitingAdmission:
            if tick >= connectDeadlineTick {
                terminate(reason: phase == .awaitingProxyHeader ? .proxyProtocol : .connectTimeout)
                return nil
            }
            return connectDeadlineTick
        case .relaying:
            checkRelayConnectDeadline(tick)
            if handOffTick > 0, tick >= handOffTick {
                handOffTick = 0
                handOffDue = true
                considerHandOff()
            }
            refreshActivityFromRelay()
            if idleTicks > 0, tick >= lastActivityTick + idleTicks {
                terminate(reason: .idleTimeout)
                return nil
            }
            return nextRelayDeadline
        case .dialing, .closing:
            return nil
        }
    }

    /// Books the end of the session once: counters, gauges, tables, the log line.
    func finish() {
        guard !finished else { return }
        finished = true
        loop.wheel.cancel(self)
        loop.unregister(self)
        listener.metrics.active.decrement()
        let reason = self.reason ?? .clientClosed
        if reason.isRejection { listener.metrics.countRejection(reason) }
        if holdsSourceSlot { listener.sourceLimiter.release(clientIP) }
        releaseConnectBytes()
        if phase == .closing, let server, upstreamWasOpened {
            server.sessionClosed()
            serverMetrics?.active.decrement()
            if let sourceIP { sourceReleased(sourceIP, port: sourcePort, on: server) }
        }
        logClosed(reason: reason)
        pending = nil
        upstream = nil
        context = nil
    }

    /// Whether the session was counted on its server (the relay began).
    var upstreamWasOpened = false
}
