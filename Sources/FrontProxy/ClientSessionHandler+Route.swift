import FrontConfig
import FrontCore
import Logging
import MQTTWire
import NIOCore

extension ClientSessionHandler {
    /// Feeds the bytes so far to the CONNECT parser and acts on its verdict.
    func sniff() {
        guard let pending else { return }
        let result = pending.withUnsafeReadableBytes {
            MQTTConnectParser.parse($0, maxPacketSize: listener.config.maxConnectSize)
        }
        switch result {
        case .needMoreData:
            return
        case .invalid(let error):
            listener.logger.debug(
                "refusing client: not a valid CONNECT",
                metadata: ["client": .string(clientAddress), "error": .string("\(error)")])
            terminate(reason: .malformedConnect)
        case .complete(let packet, _):
            connect = packet
            loop.wheel.cancel(self)
            phase = .dialing
            beginRouting()
        }
    }

    /// Resolves the backend from the snapshot in force and starts the first dial.
    func beginRouting() {
        let routing = listener.routing.current
        snapshotMetrics = routing.metrics
        guard let backend = routing.snapshot.backend(named: listener.config.backend) else {
            refuse(.noServer)
            return
        }
        self.backend = backend
        attemptsLeft = backend.config.retries + 1
        dialNext()
    }

    private var routingKey: RoutingKey {
        RoutingKey(clientID: connect?.clientID, username: connect?.username, sourceIP: clientIP)
    }

    /// Dials the next candidate, or refuses the client when none is left.
    func dialNext() {
        guard phase == .dialing, let backend, let context else { return }
        guard attemptsLeft > 0, let server = backend.choose(for: routingKey, at: .now(), excluding: tried) else {
            refuse(.noServer)
            return
        }
        attemptsLeft -= 1
        tried.append(server)
        let source = server.nextSourceIP()
        let handler = UpstreamHandler(partner: self)
        UpstreamDialer.dial(
            server, from: source, on: context.eventLoop, timeout: backend.config.connectTimeout, handler: handler
        )
        .assumeIsolated()
        .whenComplete { result in
            switch result {
            case .success(let channel):
                self.noteDialSucceeded(server)
                guard self.phase == .dialing else {
                    channel.close(promise: nil)
                    return
                }
                self.startRelay(to: server, source: source, handler: handler)
            case .failure(let error):
                self.noteDialFailed(server, error: error)
                self.dialNext()
            }
        }
    }

    private func noteDialSucceeded(_ server: ServerRuntime) {
        guard let transition = server.dialSucceeded() else { return }
        listener.events.serverTransitioned(server, transition, cause: "dial", message: "connected")
    }

    func noteDialFailed(_ server: ServerRuntime, error: any Error) {
        listener.logger.debug(
            "dial failed",
            metadata: [
                "backend": .string(server.backendName), "server": .string(server.name),
                "error": .string("\(error)"),
            ])
        guard let transition = server.dialFailed(at: .now()) else { return }
        listener.events.serverTransitioned(server, transition, cause: "dial", message: "\(error)")
    }

    /// The upstream is connected: send what the client sent so far and start relaying.
    private func startRelay(to server: ServerRuntime, source: String?, handler: UpstreamHandler) {
        self.server = server
        self.sourceIP = source
        self.upstream = handler
        upstreamWasOpened = true
        server.sessionOpened()
        serverMetrics = snapshotMetrics?.metrics(for: server)
        serverMetrics?.active.increment()
        phase = .relaying
        if let pending, pending.readableBytes > 0 {
            handler.write(pending)
            handler.flush()
        }
        if connect != nil, attemptsLeft > 0 { replay = pending ?? context?.channel.allocator.buffer(capacity: 0) }
        pending = nil
        let idle: Duration?
        if let connect {
            idle = KeepalivePolicy.idleTimeout(keepAlive: connect.keepAlive, listener: listener.config)
        } else {
            idle = KeepalivePolicy.idleTimeout(tcpListener: listener.config)
        }
        lastActivityTick = loop.wheel.currentTick
        if let idle {
            idleTicks = TimerWheel.ticks(for: idle)
            loop.wheel.schedule(self, at: lastActivityTick + idleTicks)
        }
        if clientInputClosed { handler.shutdownOutput() }
        if readPending, handler.isWritable, let context {
            readPending = false
            context.read()
        }
    }

    /// Answers a client the front cannot serve, then closes: an MQTT client gets a CONNACK with the
    /// refusal for its protocol version, a `tcp` client just a close.
    func refuse(_ reason: CloseReason) {
        guard let context else { return }
        self.reason = reason
        phase = .closing
        if let connect {
            let refusal: MQTTRefusal
            switch reason {
            case .limit: refusal = .quotaExceeded
            case .denied: refusal = .clientIdentifierRejected
            default: refusal = .serverUnavailable
            }
            let bytes = MQTTConnAck.bytes(version: connect.version, refusal: refusal)
            bytesOut &+= UInt64(bytes.count)
            listener.metrics.bytesOut.increment(by: Int64(bytes.count))
            let buffer = context.channel.allocator.buffer(bytes: bytes)
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
                self.context?.close(promise: nil)
            }
        } else {
            context.close(promise: nil)
        }
    }
}
