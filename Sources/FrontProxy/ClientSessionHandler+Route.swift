import FrontConfig
import FrontCore
import Logging
import MQTTWire
import NIOCore
import NIOPosix
import NIOSSL
import ProxyProtocol

#if canImport(Glibc)
    import Glibc
#endif

extension ClientSessionHandler {
    /// Parses the CONNECT once its fixed header says it is whole (or settled early: not a CONNECT,
    /// too large), and acts on the verdict. Before that only the fixed header is read, so a CONNECT
    /// dribbled in small pieces costs one parse, not one per read (as on the relay thread).
    func sniff() {
        guard let pending else { return }
        let limit = listener.config.maxConnectSize
        guard pending.withUnsafeReadableBytes({ MQTTConnectParser.isSettled($0, maxPacketSize: limit) }) else { return }
        let result = pending.withUnsafeReadableBytes { MQTTConnectParser.parse($0, maxPacketSize: limit) }
        switch result {
        case .needMoreData:
            return
        case .invalid(let error):
            refuseMalformed(error)
        case .complete(var packet, _):
            // Kept for the session's life: only what routing, limits, logs and the sessions API read.
            // The bytes themselves are relayed from `pending`, untouched.
            packet.password = nil
            packet.will = nil
            packet.properties = []
            connect = packet
            releaseConnectBytes()
            admit()
        }
    }

    /// The PROXY header step finished.
    func proxyHeader(_ event: ProxyHeaderEvent) {
        guard phase == .awaitingProxyHeader else { return }
        switch event {
        case .invalid(let why):
            listener.logger.debug(
                "refusing client: no valid PROXY header",
                metadata: ["client": .string(clientAddress), "error": .string(why)])
            terminate(reason: .proxyProtocol)
        case .received(let source, let destination):
            if let source { setClient(ip: source.ip, port: source.port) }
            proxiedDestination = destination
            // per_source_ip counts the client the header names, from here on.
            guard takeSourceSlot() else { return }
            clientIdentified()
        }
    }

    /// The listener's filters after the CONNECT, in order: client id allow/deny, then the accept
    /// rate (over it, the session waits in the loop's queue), unless a TLS listener applied it at
    /// accept. Then routing. (`per_source_ip` counted the connection at accept.)
    func admit() {
        if let connect, !listener.clientIDPolicy.permits(connect.clientID) {
            refuse(.denied)
            return
        }
        if !rateAppliedAtAccept, let rate = listener.acceptRate, !rate.tryTake() {
            guard rate.tryQueue() else {
                refuse(.limit)
                return
            }
            phase = .awaitingAdmission
            loop.enqueueForAdmission(self)
            return
        }
        startRouting()
    }

    /// Leaves the admission queue: a token was found for this session.
    func admittedFromQueue() {
        guard phase == .awaitingAdmission else { return }
        if rateAppliedAtAccept {
            // Queued at accept (TLS): the handshake, the PROXY header and the CONNECT may begin.
            identifyClient()
            if readPending, let context {
                readPending = false
                context.read()
            }
            return
        }
        startRouting()
    }

    private func startRouting() {
        loop.wheel.cancel(self)
        phase = .dialing
        beginRouting()
    }

    /// Resolves the backend from the snapshot in force and starts the first dial.
    func beginRouting() {
        if listener.config.tls?.clientCA != nil, let context,
            let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        {
            certificateCN = tls.peerCertificate?.subjectName.last { $0.type == .commonName }?.value
        }
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
        RoutingKey(
            clientID: connect?.clientID, username: connect?.username, sourceIP: clientIP, certificateCN: certificateCN)
    }

    /// Dials the next candidate, or refuses the client when none is left.
    func dialNext() {
        guard phase == .dialing, let backend, holdsClient else { return }
        guard attemptsLeft > 0, let server = backend.choose(for: routingKey, at: .now(), excluding: tried) else {
            refuse(.noServer)
            return
        }
        attemptsLeft -= 1
        tried.append(server)
        dial(server, on: loop.eventLoop, timeout: backend.config.connectTimeout)
    }

    /// One dial of `server`; a failure moves on to the next candidate, except a source port that
    /// turned out to be taken by another socket (`source_ports`), which is retried with another port.
    private func dial(_ server: ServerRuntime, on eventLoop: any EventLoop, timeout: Duration) {
        let acquired = server.acquireSource()
        if acquired == nil, !server.sourceIPs.isEmpty {
            // `source_ports` pools of every source IP are full toward this server.
            noteDialFailed(server, error: IOError(errnoCode: EADDRNOTAVAIL, reason: "every source_ports port taken"))
            dialNext()
            return
        }
        let source = acquired?.ip
        let port = acquired?.port
        if let acquired { sourceTaken((acquired.ip, acquired.inUse), on: server) }
        if relay != nil || acceptedFD >= 0 {
            let again = { self.dial(server, on: eventLoop, timeout: timeout) }
            if dialFromRelay(server, source: source, port: port, timeout: timeout, again: again) { return }
        }
        let handler = UpstreamHandler(partner: self)
        UpstreamDialer.dial(server, from: source, port: port, on: eventLoop, timeout: timeout, handler: handler)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.noteDialSucceeded(server)
                    guard self.phase == .dialing, self.stillChosen(server) else {
                        channel.close(promise: nil)
                        self.dialSuperseded(server, source: source, port: port)
                        return
                    }
                    self.sourcePort = UInt16(port ?? 0)
                    self.startRelay(to: server, source: source, handler: handler)
                case .failure(let error):
                    self.dialAttemptFailed(server, source: source, port: port, error: error) {
                        self.dial(server, on: eventLoop, timeout: timeout)
                    }
                }
            }
    }

    /// A dial of `server` failed: a source port taken outside our pool (`source_ports`) is tried
    /// `again` with another port; anything else counts against the server and the next candidate is tried.
    func dialAttemptFailed(
        _ server: ServerRuntime, source: String?, port: Int?, error: any Error, again: () -> Void
    ) {
        let collided = port != nil && Self.isPortCollision(error)
        if let source { sourceReleased(source, port: UInt16(port ?? 0), on: server, collided: collided) }
        if collided, phase == .dialing, portCollisions < Self.maxPortCollisions {
            portCollisions += 1
            listener.metrics.sourcePortCollisions.increment()
            again()
            return
        }
        noteDialFailed(server, error: error)
        dialNext()
    }

    /// The upstream is connected: send what the client sent so far and start relaying.
    private func startRelay(to server: ServerRuntime, source: String?, handler: UpstreamHandler) {
        self.upstream = handler
        serverSessionOpened(server, source: source)
        if source == nil { upstreamLocalIP = handler.channel?.localAddress?.ipAddress }
        if let header = proxyHeaderBytes() {
            handler.write(ByteBuffer(bytes: header))
        }
        if let pending, pending.readableBytes > 0 {
            handler.write(pending)
            if connect != nil {
                clientStream = MQTTStreamTracker()
                trackClient(pending)
            }
        }
        handler.flush()
        if connect?.version == .v5 { connackProbe = ConnAckKeepAliveProbe() }
        if keepsReplay { replay = pending ?? context?.channel.allocator.buffer(capacity: 0) }
        pending = nil
        startIdleClock()
        scheduleRelayDeadline()
        if clientInputClosed { handler.shutdownOutput() }
        if readPending, handler.isWritable, let context {
            readPending = false
            context.read()
        }
    }

    /// The session relays to `server` now (from `source`): counted on it until it ends or is lost.
    func serverSessionOpened(_ server: ServerRuntime, source: String?) {
        self.server = server
        sourceIP = source
        upstreamWasOpened = true
        server.sessionOpened()
        serverMetrics = snapshotMetrics?.metrics(for: server)
        serverMetrics?.active.increment()
        phase = .relaying
    }

    /// `server` was lost before it answered: the session is no longer counted on it, and its source
    /// port is given back.
    func serverSessionLost(_ server: ServerRuntime) {
        server.sessionClosed()
        serverMetrics?.active.decrement()
        if let sourceIP { sourceReleased(sourceIP, port: sourcePort, on: server) }
        serverMetrics = nil
        upstreamWasOpened = false
        self.server = nil
        sourceIP = nil
        upstreamLocalIP = nil
        sourcePort = 0
        loop.wheel.cancel(self)
    }

    /// Starts the idle deadline: the client's keepalive × factor (MQTT), or the listener's idle
    /// timeout (`tcp`), from now.
    func startIdleClock() {
        let idle: Duration?
        if let connect {
            idle = KeepalivePolicy.idleTimeout(keepAlive: connect.keepAlive, listener: listener.config)
        } else {
            idle = KeepalivePolicy.idleTimeout(tcpListener: listener.config)
        }
        lastActivityTick = loop.tickNow()
        if let idle { idleTicks = TimerWheel.ticks(for: idle) }
    }

    /// Counts an upstream port of `acquired.ip` toward `server`, and warns once when that pair
    /// reaches 80% of the ephemeral port range (the classic 64k wall, per destination).
    private func sourceTaken(_ acquired: (ip: String, inUse: Int), on server: ServerRuntime) {
        snapshotMetrics?.sourcePorts(for: acquired.ip)?.increment()
        let range = server.sourcePorts?.count ?? PortRange.size
        if acquired.inUse == range * 8 / 10 {
            listener.logger.warning(
                server.sourcePorts == nil
                    ? "source IP near its port range toward a server: add source_ips or widen ip_local_port_range"
                    : "source IP near its source_ports range toward a server: add source_ips or widen source_ports",
                metadata: [
                    "source_ip": .string(acquired.ip), "backend": .string(server.backendName),
                    "server": .string(server.name), "in_use": "\(acquired.inUse)", "port_range": "\(range)",
                ])
        }
    }

    /// Gives back a source port counted by ``sourceTaken(_:on:)`` (`port` 0: the kernel picked it).
    func sourceReleased(_ ip: String, port: UInt16, on server: ServerRuntime, collided: Bool = false) {
        server.releaseSource(ip, port: port == 0 ? nil : Int(port), collided: collided)
        snapshotMetrics?.sourcePorts(for: ip)?.decrement()
    }

    /// The PROXY header for the broker (`send_proxy_protocol`): the real client and the address it
    /// connected to, so brokers log and limit by the device rather than by the front.
    func proxyHeaderBytes() -> [UInt8]? {
        guard let version = backend?.config.sendProxyProtocol, version != .none else { return nil }
        let local = context?.channel.localAddress
        let destination =
            proxiedDestination
            ?? ProxyAddress(ip: local?.ipAddress ?? "0.0.0.0", port: local?.port ?? 0)
        let source = ProxyAddress(ip: clientIP, port: clientPort)
        // Mixed families (an IPv4 client on a dual-stack listener) go as IPv4-mapped IPv6 in either
        // version, as HAProxy sends them: the broker gets the version it was configured for.
        switch version {
        case .v1: return ProxyHeaderEncoder.v1(source: source, destination: destination)
        case .v2: return ProxyHeaderEncoder.v2(source: source, destination: destination)
        case .none: return nil
        }
    }

    /// Answers a client the front cannot serve, then closes: an MQTT client gets a CONNACK with the
    /// refusal for its protocol version, a `tcp` client just a close; `reply`, when given, instead.
    func refuse(_ reason: CloseReason, sending reply: [UInt8]? = nil) {
        guard holdsClient else { return }
        self.reason = reason
        phase = .closing
        var bytes = reply ?? []
        if reply == nil, let connect {
            bytes = MQTTConnAck.bytes(version: connect.version, refusal: Self.refusal(for: reason))
        }
        bytesOut &+= UInt64(bytes.count)
        listener.metrics.bytesOut.increment(by: Int64(bytes.count))
        if acceptedFD >= 0 {
            // Accepted by a relay thread and not moved yet: the socket is here.
            closeAccepted(sending: bytes)
            return
        }
        if context == nil, let relay {
            // Moved to a relay thread while dialing: it writes the refusal and closes.
            loop.relay?.refuse(relay, with: bytes)
            return
        }
        guard let context else { return }
        if !bytes.isEmpty {
            let buffer = context.channel.allocator.buffer(bytes: bytes)
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
                self.context?.close(promise: nil)
            }
        } else {
            context.close(promise: nil)
        }
    }

    /// The CONNACK refusal an MQTT client gets for `reason`.
    static func refusal(for reason: CloseReason) -> MQTTRefusal {
        switch reason {
        case .limit: .quotaExceeded
        case .denied: .clientIdentifierRejected
        default: .serverUnavailable
        }
    }
}
