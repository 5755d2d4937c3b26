import FrontCore
import MQTTWire
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// With relay threads, the server is dialed from a plain socket and the session, accepted by a
/// relay thread (``acceptedFD``), moves to a ``RelayEngine`` thread as soon as its CONNECT is routed,
/// so it never builds a SwiftNIO channel.
///
/// The relay thread then owns both sockets; the handler stays the session's record on its loop and
/// keeps every decision: it opens each server socket (connect(), and a first send that on a nearby
/// server usually goes through at once), notes the dial's outcome for passive health, enforces the
/// connect deadline (``RelayEngine/abortDial(_:)``), and when the server is lost before it answered
/// (``RelayDialLoss``: a failed connect, or a close before its first byte) picks the next one with
/// the same bytes (``RelayEngine/redial(_:_:)``) or refuses the client (``RelayEngine/refuse(_:with:)``).
extension ClientSessionHandler {
    /// Dials `server` from a plain socket for a session a relay thread accepted or carries: true when
    /// this dial is under way or already failed over to the next step; false without relay threads.
    func dialFromRelay(
        _ server: ServerRuntime, source: String?, port: Int?, timeout: Duration, again: @escaping () -> Void
    ) -> Bool {
        guard let engine = loop.relay else { return false }
        let address = server.config.address
        if let target = try? SocketAddress(ipAddress: address.host, port: address.port) {
            open([target], engine: engine, server: server, source: source, port: port, timeout: timeout, again: again)
        } else {
            dialByName(engine, server: server, source: source, port: port, timeout: timeout, again: again)
        }
        return true
    }

    /// Opens a plain socket to the first of `targets` that takes the connect() (a server addressed by
    /// name may have addresses of a family the host cannot reach), and hands it to the relay thread.
    private func open(
        _ targets: [SocketAddress], engine: RelayEngine, server: ServerRuntime, source: String?, port: Int?,
        timeout: Duration, again: @escaping () -> Void
    ) {
        let bytes = bytesForServer()
        let local = source.flatMap { try? SocketAddress(ipAddress: $0, port: port ?? 0) }
        var failure = EADDRNOTAVAIL
        for target in targets {
            switch UpstreamSocket.open(to: target, from: local, pickedPort: port != nil, sending: bytes) {
            case .opened(let fd, let sentCount, let connected):
                handToRelay(
                    engine, server: server, source: source, port: port, timeout: timeout,
                    dial: (fd, connected, bytes, sentCount))
                return
            case .failed(let code):
                failure = code
            }
        }
        dialAttemptFailed(
            server, source: source, port: port, error: IOError(errnoCode: failure, reason: "connect"), again: again)
    }

    /// Every byte the next server gets: what the last one was sent (after a loss), or the PROXY
    /// header and what the client sent so far.
    private func bytesForServer() -> [UInt8] {
        relayResend ?? ((proxyHeaderBytes() ?? []) + (pending.map { Array($0.readableBytesView) } ?? []))
    }

    /// A server addressed by name: resolved on a thread pool (the system resolver blocks), within the
    /// backend's connect timeout, then opened as one addressed by IP with what is left of it.
    private func dialByName(
        _ engine: RelayEngine, server: ServerRuntime, source: String?, port: Int?, timeout: Duration,
        again: @escaping () -> Void
    ) {
        let address = server.config.address
        let eventLoop = loop.eventLoop
        let begun = MonotonicTime.now()
        var settled = false
        let resolution = NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
            try NameResolution.addresses(of: address.host, port: address.port)
        }
        let deadline = eventLoop.assumeIsolated().scheduleTask(
            in: .nanoseconds(Int64(clamping: timeout.nanosecondsClamped))
        ) {
            guard !settled else { return }
            settled = true
            let error = ChannelError.connectTimeout(.nanoseconds(Int64(clamping: timeout.nanosecondsClamped)))
            self.dialAttemptFailed(server, source: source, port: port, error: error, again: again)
        }
        resolution.assumeIsolated().whenComplete { result in
            deadline.cancel()
            guard !settled else { return }
            settled = true
            switch result {
            case .success(let targets):
                guard self.phase == .dialing, self.relay != nil || self.acceptedFD >= 0 else {
                    if let source { self.sourceReleased(source, port: UInt16(port ?? 0), on: server) }
                    return
                }
                let left = timeout - MonotonicTime.now().since(begun)
                self.open(
                    targets, engine: engine, server: server, source: source, port: port,
                    timeout: max(left, .milliseconds(1)), again: again)
            case .failure(let error):
                self.dialAttemptFailed(server, source: source, port: port, error: error, again: again)
            }
        }
    }

    /// The server's socket is open: the session is counted on `server` and the relay thread takes
    /// the socket (with the client's, on the first dial).
    private func handToRelay(
        _ engine: RelayEngine, server: ServerRuntime, source: String?, port: Int?, timeout: Duration,
        dial opened: (fd: CInt, connected: Bool, bytes: [UInt8], sentCount: Int)
    ) {
        let (fd, connected, bytes, sentCount) = opened
        relayResend = nil
        serverSessionOpened(server, source: source)
        if source == nil {
            upstreamLocalIP = SocketAddressText.local(of: fd).map { SocketAddressText.ipAndPort($0).ip }
        }
        sourcePort = UInt16(port ?? 0)
        if connected { noteDialSucceeded(server) }
        let events = listener.events
        var dial = RelayServerDial(
            fd: fd, connected: connected, bytes: bytes, sentCount: sentCount,
            replayable: keepsReplay)
        let (tried, backendName, routing) = (tried, backend?.name, listener.routing)
        dial.onConnected = {
            Self.noteDialSucceeded(server, events: events)
            return Self.stillChosen(server, tried: tried, backend: backendName, routing: routing)
        }
        relayConnectDeadline = connected ? 0 : loop.tickNow() + TimerWheel.ticks(for: timeout) + 1
        if let relay {
            engine.redial(relay, dial)
        } else {
            moveToRelay(engine, dial: dial)
        }
        scheduleRelayDeadline()
    }

    /// The first dial went out: the session's bookkeeping starts as on channels, and the relay thread
    /// takes the client's socket with the server's.
    private func moveToRelay(_ engine: RelayEngine, dial: RelayServerDial) {
        let client = acceptedFD
        acceptedFD = -1
        if let pending, pending.readableBytes > 0, connect != nil {
            clientStream = MQTTStreamTracker()
            trackClient(pending)
        }
        pending = nil
        startIdleClock()
        let eventLoop = loop.eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let hooks = RelayDialHooks(
            probeServerKeepAlive: connect?.version == .v5,
            replayLimit: listener.config.maxConnectSize * 2,
            serverKeepAlive: { seconds in eventLoop.execute { bound.value.serverKeepAliveRead(seconds) } },
            lost: { loss in eventLoop.execute { bound.value.relayLost(loss) } })
        let link = RelayLink(
            serverBytesAreActivity: connect == nil, bytesIn: listener.metrics.bytesIn,
            bytesOut: listener.metrics.bytesOut, dialHooks: hooks, endsOn: eventLoop
        ) { reason in
            bound.value.relayEnded(reason)
        }
        relay = link
        engine.adoptDialing(client: client, dial: dial, link: link, tracker: clientStream)
        clientStream = nil
    }

    /// The relay thread lost the server before it answered: undo its bookkeeping, note a failed
    /// connect for passive health (a close after the client's bytes went out is no evidence:
    /// ``serverClosedUnanswered(_:)``), and go on with the next candidate (or refuse).
    func relayLost(_ loss: RelayDialLoss) {
        guard relay != nil, phase == .relaying, let server else { return }
        serverSessionLost(server)
        relayConnectDeadline = 0
        relayResend = loss.resend
        phase = .dialing
        switch loss {
        case .failed(let code, _) where code == ETIMEDOUT:
            let timeout = backend?.config.connectTimeout ?? .zero
            noteDialFailed(
                server, error: ChannelError.connectTimeout(.nanoseconds(Int64(clamping: timeout.nanosecondsClamped))))
        case .failed(let code, _):
            noteDialFailed(server, error: IOError(errnoCode: code, reason: "connect"))
        case .silent:
            serverClosedUnanswered(server)
            return
        case .superseded:
            noteDialSuperseded(server)
        }
        dialNext()
    }

    /// MQTT 5.0 §3.2.2.3.14, read by the relay thread: the broker's Server Keep Alive replaces the
    /// client's, so the idle deadline follows it.
    func serverKeepAliveRead(_ seconds: UInt16) {
        guard relay != nil, phase == .relaying else { return }
        applyServerKeepAlive(seconds)
    }

    /// The connect deadline of a session dialing from the relay thread, checked by the wheel.
    func checkRelayConnectDeadline(_ tick: Int64) {
        guard relayConnectDeadline > 0, let relay else { return }
        if relay.connected.load(ordering: .relaxed) {
            relayConnectDeadline = 0
        } else if tick >= relayConnectDeadline {
            relayConnectDeadline = 0
            loop.relay?.abortDial(relay)
        }
    }
}
