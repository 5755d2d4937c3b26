import FrontCore
import FrontSession
import MQTTWire
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// `relay_connect`: the server is dialed from a plain socket and the session moves to a
/// ``RelayEngine`` thread as soon as its CONNECT is routed, so a session never builds a SwiftNIO
/// channel for its server and its client channel lives only until the routing is done.
///
/// The relay thread then owns both sockets; the handler stays the session's record on its loop and
/// keeps every decision: it opens each server socket (connect(), and a first send that on a nearby
/// server usually goes through at once), notes the dial's outcome for passive health, enforces the
/// connect deadline (``RelayEngine/abortDial(_:)``), and when the server is lost before it answered
/// (``RelayDialLoss``: a failed connect, or a close before its first byte) picks the next one with
/// the same bytes (``RelayEngine/redial(_:_:)``) or refuses the client (``RelayEngine/refuse(_:with:)``).
extension ClientSessionHandler {
    /// Dials `server` from a plain socket: true when this dial is under way or already failed over to
    /// the next step; false when the SwiftNIO dial must run instead (before the move only: the
    /// server is addressed by name, or the client's descriptor cannot be taken).
    func dialFromRelay(
        _ server: ServerRuntime, source: String?, port: Int?, timeout: Duration, header: [UInt8]?
    ) -> Bool {
        guard let engine = loop.relay else { return false }
        let address = server.config.address
        guard let target = try? SocketAddress(ipAddress: address.host, port: address.port) else {
            // A channel's session dials a named server with SwiftNIO, which resolves the name; one
            // without a channel does the same, then moves the connected socket.
            guard relay != nil || acceptedFD >= 0 else { return false }
            dialByName(server, source: source, port: port, timeout: timeout, header: header)
            return true
        }
        var clientFD: CInt = -1
        if relay == nil, acceptedFD < 0 {
            guard let context, let duplicate = SocketHandOff.duplicate(context.channel) else { return false }
            clientFD = duplicate
        }
        let bytes = bytesForServer(header: header)
        let local = source.flatMap { try? SocketAddress(ipAddress: $0, port: port ?? 0) }
        let opened = UpstreamSocket.open(to: target, from: local, pickedPort: port != nil, sending: bytes)
        guard case .opened(let fd, let sentCount, let connected) = opened else {
            if clientFD >= 0 { Glibc.close(clientFD) }
            if case .failed(let code) = opened {
                dialErrorText = "connect: \(String(cString: strerror(code))) (errno: \(code))"
                dialAttemptFailed(
                    server, source: source, port: port,
                    failure: DialFailure(errno: code, stage: .connecting, pickedPort: port != nil))
            }
            return true
        }
        handToRelay(
            engine, server: server, source: source, port: port, timeout: timeout, clientFD: clientFD,
            dial: (fd, connected, bytes, sentCount))
        return true
    }

    /// Every byte the next server gets: what the last one was sent (after a loss), or the PROXY
    /// header and what the client sent so far.
    private func bytesForServer(header: [UInt8]?) -> [UInt8] {
        relayResend ?? ((header ?? []) + (pending.map { Array($0.readableBytesView) } ?? []))
    }

    /// A server addressed by name, for a session without a channel: SwiftNIO resolves and connects
    /// (reading nothing), then the connected socket goes to the relay thread.
    private func dialByName(
        _ server: ServerRuntime, source: String?, port: Int?, timeout: Duration, header: [UInt8]?
    ) {
        UpstreamDialer.dial(server, from: source, port: port, on: loop.eventLoop, timeout: timeout, handler: nil)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    let fd = self.machine.phase == .dialing ? SocketHandOff.duplicate(channel) : nil
                    channel.close(promise: nil)
                    guard let fd, let engine = self.loop.relay else {
                        if let source { self.sourceReleased(source, port: UInt16(port ?? 0), on: server) }
                        if self.machine.phase == .dialing { self.terminate(reason: .error) }
                        return
                    }
                    self.noteDialSucceeded(server)
                    guard self.stillChosen(server) else {
                        Glibc.close(fd)
                        self.dialSuperseded(server, source: source, port: port)
                        return
                    }
                    self.handToRelay(
                        engine, server: server, source: source, port: port, timeout: timeout, clientFD: -1,
                        dial: (fd, true, self.bytesForServer(header: header), 0))
                case .failure(let error):
                    self.dialErrorText = "\(error)"
                    self.dialAttemptFailed(
                        server, source: source, port: port, failure: Self.dialFailure(error, port: port))
                }
            }
    }

    /// The server's socket is open: the session is counted on `server` and the relay thread takes
    /// the socket (with the client's, on the first dial).
    private func handToRelay(
        _ engine: RelayEngine, server: ServerRuntime, source: String?, port: Int?, timeout: Duration, clientFD: CInt,
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
            replayable: machine.keepsReplay)
        let (tried, backendName, routing) = (machine.tried, backend?.name, listener.routing)
        dial.onConnected = {
            Self.noteDialSucceeded(server, events: events)
            return Self.stillChosen(server, tried: tried, backend: backendName, routing: routing)
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
            moveToRelay(engine, client: clientFD, dial: dial)
        }
    }

    /// The first dial went out: the session's bookkeeping starts as on its channels, then the client
    /// channel is closed (its duplicate stays open) and the relay thread takes both sockets.
    private func moveToRelay(_ engine: RelayEngine, client: CInt, dial: RelayServerDial) {
        var client = client
        if acceptedFD >= 0 {
            client = acceptedFD
            acceptedFD = -1
        } else if context == nil {
            return
        }
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
        if let context {
            // The channel's close releases the connection slots the accept gate took; the session keeps them.
            retainConnectionSlots()
            context.channel.close(promise: nil)
            self.context = nil
        }
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

/// The server side of a session dialed from a plain socket (`relay_connect`).
enum UpstreamSocket {
    enum Outcome {
        /// connect() was called; `sent` of the bytes went out, which proves the socket connected.
        case opened(fd: CInt, sent: Int, connected: Bool)
        /// socket(), bind() or connect() failed, or the first send found the connection refused.
        case failed(errno: CInt)
    }

    /// A non-blocking TCP socket with TCP_NODELAY, bound to `local` when given (with
    /// IP_BIND_ADDRESS_NO_PORT, or SO_REUSEADDR for a port the front picked), connecting to
    /// `target`; then one send of `bytes`, which on loopback or a nearby server usually goes
    /// through at once and spares the relay thread a wait for writability.
    static func open(to target: SocketAddress, from local: SocketAddress?, pickedPort: Bool, sending bytes: [UInt8])
        -> Outcome
    {
        let type = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        let fd = socket(CInt(target.protocol.rawValue), type, 0)
        guard fd >= 0 else { return .failed(errno: errno) }
        var one: CInt = 1
        let size = socklen_t(MemoryLayout<CInt>.size)
        var failure: CInt = 0
        if setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, size) != 0 { failure = errno }
        if failure == 0, let local {
            let option = pickedPort ? (SOL_SOCKET, SO_REUSEADDR) : (CInt(IPPROTO_IP), SocketTuning.bindAddressNoPort)
            if setsockopt(fd, option.0, option.1, &one, size) != 0
                || local.withSockAddr({ Glibc.bind(fd, $0, socklen_t($1)) }) != 0
            {
                failure = errno
            }
        }
        if failure == 0, target.withSockAddr({ Glibc.connect(fd, $0, socklen_t($1)) }) != 0, errno != EINPROGRESS {
            failure = errno
        }
        var sent = 0
        var connected = false
        if failure == 0, !bytes.isEmpty {
            let result = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, CInt(MSG_NOSIGNAL)) }
            if result >= 0 {
                sent = result
                connected = true
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                failure = errno
            }
        }
        guard failure == 0 else {
            Glibc.close(fd)
            return .failed(errno: failure)
        }
        return .opened(fd: fd, sent: sent, connected: connected)
    }

}
