import FrontCore
import FrontSession
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
        _ server: ServerRuntime, source: String?, port: Int?, timeout: Duration, header: [UInt8]?
    ) -> Bool {
        guard let engine = loop.relay else { return false }
        let address = server.config.address
        if let target = try? SocketAddress(ipAddress: address.host, port: address.port) {
            open([target], engine: engine, server: server, source: source, port: port, header: header)
        } else {
            dialByName(engine, server: server, source: source, port: port, timeout: timeout, header: header)
        }
        return true
    }

    /// Opens a plain socket to the first of `targets` that takes the connect() (a server addressed by
    /// name may have addresses of a family the host cannot reach), and hands it to the relay thread.
    private func open(
        _ targets: [SocketAddress], engine: RelayEngine, server: ServerRuntime, source: String?, port: Int?,
        header: [UInt8]?
    ) {
        let bytes = bytesForServer(header: header)
        let local = source.flatMap { try? SocketAddress(ipAddress: $0, port: port ?? 0) }
        var failure = EADDRNOTAVAIL
        for target in targets {
            switch UpstreamSocket.open(to: target, from: local, pickedPort: port != nil, sending: bytes) {
            case .opened(let fd, let sentCount, let connected):
                handToRelay(engine, server: server, source: source, port: port, dial: (fd, connected, bytes, sentCount))
                return
            case .failed(let code):
                failure = code
            }
        }
        dialErrorText = "connect: \(String(cString: strerror(failure))) (errno: \(failure))"
        dialAttemptFailed(
            server, source: source, port: port,
            failure: DialFailure(errno: failure, stage: .connecting, pickedPort: port != nil))
    }

    /// Every byte the next server gets: what the last one was sent (after a loss), or the PROXY
    /// header and what the client sent so far.
    private func bytesForServer(header: [UInt8]?) -> [UInt8] {
        relayResend ?? ((header ?? []) + (pending.map { Array($0.readableBytesView) } ?? []))
    }

    /// A server addressed by name: resolved on a thread pool (the system resolver blocks), within the
    /// backend's connect timeout, then opened as one addressed by IP with what is left of it.
    private func dialByName(
        _ engine: RelayEngine, server: ServerRuntime, source: String?, port: Int?, timeout: Duration,
        header: [UInt8]?
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
            self.dialErrorText = "resolving \(address.host) took longer than the connect timeout"
            self.dialAttemptFailed(server, source: source, port: port, failure: .timedOut(begunAt: begun))
        }
        resolution.assumeIsolated().whenComplete { result in
            deadline.cancel()
            guard !settled else { return }
            settled = true
            switch result {
            case .success(let targets):
                guard self.machine.phase == .dialing, self.relay != nil || self.acceptedFD >= 0 else {
                    if let source { self.books.sourceReleased(source, port: UInt16(port ?? 0), on: server) }
                    return
                }
                self.open(targets, engine: engine, server: server, source: source, port: port, header: header)
            case .failure(let error):
                self.dialErrorText = "\(error)"
                self.dialAttemptFailed(
                    server, source: source, port: port, failure: PassiveHealth.dialFailure(error, port: port))
            }
        }
    }

    /// The server's socket is open: the session is counted on `server` and the relay thread takes
    /// the socket (with the client's, on the first dial).
    private func handToRelay(
        _ engine: RelayEngine, server: ServerRuntime, source: String?, port: Int?,
        dial opened: (fd: CInt, connected: Bool, bytes: [UInt8], sentCount: Int)
    ) {
        let (fd, connected, bytes, sentCount) = opened
        relayResend = nil
        books.serverOpened(server, source: source)
        if source == nil {
            books.upstreamLocalIP = SocketAddressText.local(of: fd).map { SocketAddressText.ipAndPort($0).ip }
        }
        books.sourcePort = UInt16(port ?? 0)
        if connected { noteDialSucceeded(server) }
        let events = listener.events
        var dial = RelayServerDial(
            fd: fd, connected: connected, bytes: bytes, sentCount: sentCount,
            replayable: machine.keepsReplay)
        let (tried, backendName, routing) = (machine.tried, backend?.name, listener.routing)
        dial.onConnected = {
            PassiveHealth.dialSucceeded(server, events: events)
            return PassiveHealth.stillChosen(server, tried: tried, backend: backendName, routing: routing)
        }
        // The machine relays from now on (the idle clock, the client's tracker, a connect deadline).
        if let pending {
            pending.withUnsafeReadableBytes { feed(.dialOpened(connected: connected, sent: $0)) }
        } else {
            feed(.dialOpened(connected: connected, sent: UnsafeRawBufferPointer(start: nil, count: 0)))
        }
        if let relay {
            engine.redial(relay, dial)
        } else {
            moveToRelay(engine, dial: dial)
        }
    }

    /// The first dial went out: the session's bookkeeping starts as on channels, and the relay thread
    /// takes the client's socket with the server's.
    private func moveToRelay(_ engine: RelayEngine, dial: RelayServerDial) {
        let client = acceptedFD
        acceptedFD = -1
        pending = nil
        let eventLoop = loop.eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let hooks = RelayDialHooks(
            probeServerKeepAlive: connect?.version == .v5,
            replayLimit: listener.sessionSettings.replayLimit,
            serverKeepAlive: { seconds in eventLoop.execute { bound.value.serverKeepAliveRead(seconds) } },
            lost: { loss in eventLoop.execute { bound.value.relayLost(loss) } })
        let link = RelayLink(
            serverBytesAreActivity: connect == nil, bytesIn: listener.metrics.bytesIn,
            bytesOut: listener.metrics.bytesOut, dialHooks: hooks, endsOn: eventLoop
        ) { reason in
            bound.value.relayEnded(reason)
        }
        relay = link
        engine.adoptDialing(client: client, dial: dial, link: link, tracker: machine.takeClientStream())
    }

    /// The relay thread lost the server before it answered: the machine undoes the relay (the
    /// ``SessionMachine/Action/serverLost`` action), tells passive health what the loss was evidence of
    /// (a close after the client's bytes went out is none), and goes on with the next candidate, with
    /// every byte sent so far, or refuses the client.
    func relayLost(_ loss: RelayDialLoss) {
        guard relay != nil, machine.phase == .relaying, let server else { return }
        relayResend = loss.resend
        dialErrorText = ""
        if loss.failure == .superseded { noteDialSuperseded(server) }
        noteUnanswered { feed(.dialFailed(loss.failure)) }
    }

    /// MQTT 5.0 §3.2.2.3.14, read by the relay thread: the broker's Server Keep Alive replaces the
    /// client's, so the idle deadline follows it.
    func serverKeepAliveRead(_ seconds: UInt16) {
        guard relay != nil else { return }
        feed(.serverKeepAlive(seconds))
    }
}
