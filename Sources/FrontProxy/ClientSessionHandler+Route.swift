import FrontConfig
import FrontCore
import FrontSession
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
    /// The PROXY header step finished.
    func proxyHeader(_ event: ProxyHeaderEvent) {
        guard machine.phase == .awaitingProxyHeader else { return }
        switch event {
        case .invalid(let why):
            listener.logger.debug(
                "refusing client: no valid PROXY header",
                metadata: ["client": .string(clientAddress), "error": .string(why)])
            feed(.proxyHeader(valid: false))
        case .received(let source, let destination):
            if let source { books.setClient(ip: source.ip, port: source.port) }
            proxiedDestination = destination
            // per_source_ip counts the client the header names, from here on.
            guard takeSourceSlot() else { return }
            feed(.proxyHeader(valid: true))
        }
    }

    /// The listener's filters after the CONNECT, in order: client id allow/deny, then the accept
    /// rate (over it, the session waits in the loop's queue), unless a TLS listener applied it at
    /// accept. (`per_source_ip` counted the connection at accept.)
    func admit() {
        let verdict = listener.admissionVerdict(clientID: machine.connect?.clientID, rateApplied: rateAppliedAtAccept)
        if verdict == .queued { loop.enqueueForAdmission(self) }
        feed(.admission(verdict))
    }

    /// Leaves the admission queue: a token was found for this session.
    func admittedFromQueue() {
        guard machine.phase == .awaitingAdmission else { return }
        feed(.admission(.admitted))
        // Queued at accept (TLS): the handshake, the PROXY header and the CONNECT may begin.
        if machine.phase == .awaitingProxyHeader || machine.phase == .sniffing, readPending, let context {
            readPending = false
            context.read()
        }
    }

    /// Resolves the backend from the snapshot in force for the machine.
    func route() {
        // The subject CN of the client certificate (TLS listeners with `client_ca`) routes and is logged.
        var certificateCN: String?
        if listener.config.tls?.clientCA != nil, let context,
            let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        {
            certificateCN = tls.peerCertificate?.subjectName.last { $0.type == .commonName }?.value
        }
        let routing = listener.routing.current
        books.snapshotMetrics = routing.metrics
        let backend = routing.snapshot.backend(named: listener.config.backend)
        // The address the client connected to is looked up only when a PROXY header will name it.
        let destination =
            backend?.config.sendProxyProtocol == ProxyProtocolVersion.none
            ? ProxyAddress(ip: "", port: 0) : clientDestination()
        feed(
            .routed(
                SessionRoute(
                    backend: backend, client: ProxyAddress(ip: books.clientIP, port: books.clientPort),
                    destination: destination,
                    certificateCN: certificateCN)))
    }

    /// The address the client connected to: as a PROXY header reported it, else the listener socket's.
    private func clientDestination() -> ProxyAddress {
        if let proxiedDestination { return proxiedDestination }
        let local = context?.channel.localAddress
        return ProxyAddress(ip: local?.ipAddress ?? "0.0.0.0", port: local?.port ?? 0)
    }

    /// One dial the machine ordered: a source from the server's pool, then a SwiftNIO channel on this
    /// loop (a relay thread dials its own sessions: ``RelayEngine``'s `dial`).
    func dial(_ order: DialOrder) {
        let server = order.server
        if order.afterPortCollision { listener.metrics.sourcePortCollisions.increment() }
        let acquired = server.acquireSource()
        if acquired == nil, !server.sourceIPs.isEmpty {
            // `source_ports` pools of every source IP are full toward this server.
            dialErrorText = "every source_ports port taken"
            feed(.dialFailed(.localResource(errno: EADDRNOTAVAIL)))
            return
        }
        let source = acquired?.ip
        let port = acquired?.port
        if let acquired { books.sourceTaken((acquired.ip, acquired.inUse), on: server, logger: listener.logger) }
        let timeout = order.timeout
        let handler = UpstreamHandler(partner: self)
        UpstreamDialer.dial(server, from: source, port: port, on: loop.eventLoop, timeout: timeout, handler: handler)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    self.noteDialSucceeded(server)
                    guard self.machine.phase == .dialing, self.stillChosen(server) else {
                        channel.close(promise: nil)
                        self.dialSuperseded(server, source: source, port: port)
                        return
                    }
                    self.books.sourcePort = UInt16(port ?? 0)
                    self.startRelay(to: server, source: source, header: order.proxyHeader, handler: handler)
                case .failure(let error):
                    self.dialErrorText = "\(error)"
                    self.dialAttemptFailed(
                        server, source: source, port: port, failure: PassiveHealth.dialFailure(error, port: port))
                }
            }
    }

    /// A dial of `server` failed: its source goes back to the pool (a port taken outside it is marked
    /// so), and the machine decides what next.
    func dialAttemptFailed(_ server: ServerRuntime, source: String?, port: Int?, failure: DialFailure) {
        if let source {
            books.sourceReleased(source, port: UInt16(port ?? 0), on: server, collided: failure == .portCollision)
        }
        feed(.dialFailed(failure))
    }

    func noteDialSucceeded(_ server: ServerRuntime) {
        PassiveHealth.dialSucceeded(server, events: listener.events)
    }

    /// Passive health hears of a failed dial (see ``PassiveHealth/dialFailed(_:_:counts:error:listener:)``).
    func noteDialFailed(_ server: ServerRuntime, _ failure: DialFailure, counts: Bool) {
        PassiveHealth.dialFailed(
            server, failure, counts: counts, error: dialErrorText.isEmpty ? nil : dialErrorText, listener: listener)
        dialErrorText = ""
    }

    /// The upstream is connected: send what the client sent so far and start relaying.
    private func startRelay(to server: ServerRuntime, source: String?, header: [UInt8]?, handler: UpstreamHandler) {
        self.upstream = handler
        // Each server's stream starts anew.
        serverPackets = machine.connect == nil ? nil : MQTTStreamTracker()
        books.serverOpened(server, source: source)
        if source == nil { books.upstreamLocalIP = handler.channel?.localAddress?.ipAddress }
        if let header { handler.write(ByteBuffer(bytes: header)) }
        if let pending, pending.readableBytes > 0 { handler.write(pending) }
        handler.flush()
        if let pending {
            pending.withUnsafeReadableBytes { feed(.dialOpened(connected: true, sent: $0)) }
        } else {
            feed(.dialOpened(connected: true, sent: UnsafeRawBufferPointer(start: nil, count: 0)))
        }
        if machine.isReplaying { replay = pending ?? context?.channel.allocator.buffer(capacity: 0) }
        pending = nil
        if readPending, handler.isWritable, let context {
            readPending = false
            context.read()
        }
    }
}
