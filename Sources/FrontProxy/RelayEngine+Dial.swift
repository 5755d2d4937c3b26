import FrontCore
import FrontSession
import MQTTWire
import NIOCore
import NIOPosix
import ProxyProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Admission, routing and dialing of the sessions a relay thread drives: the listener's filters
/// (with `accept_rate`'s queue on this thread), the routing snapshot, a source from the server's
/// pool, a plain socket (a name resolved on NIO's thread pool, its answer a command back here),
/// the connect's completion, and a server lost before it answered.
extension RelayEngine {
    /// The listener's filters after the CONNECT: client id allow/deny, then the accept rate (over
    /// it, the session waits in this thread's queue).
    func admit(_ drive: RelayDrive) {
        let verdict = drive.listener.admissionVerdict(clientID: drive.machine.connect?.clientID)
        if verdict == .queued { admissionQueue.append(drive) }
        feed(drive, .admission(verdict))
    }

    /// Admits queued sessions, oldest first, while their listener has tokens (on the thread's timer).
    func drainAdmissionQueue() {
        var taken = 0
        var kept: [RelayDrive] = []
        for drive in admissionQueue {
            guard drive.machine.phase == .awaitingAdmission, !drive.session.isEnded else {
                drive.listener.acceptRate?.leftQueue()
                taken += 1
                continue
            }
            guard kept.isEmpty, drive.listener.acceptRate?.tryTake() ?? true else {
                kept.append(drive)
                continue
            }
            drive.listener.acceptRate?.leftQueue()
            taken += 1
            feed(drive, .admission(.admitted))
        }
        admissionQueue = kept
    }

    /// Resolves the backend from the snapshot in force for the machine.
    func route(_ drive: RelayDrive) {
        let routing = drive.listener.routing.current
        drive.books.snapshotMetrics = routing.metrics
        let backend = routing.snapshot.backend(named: drive.listener.config.backend)
        let client = ProxyAddress(ip: drive.books.clientIP, port: drive.books.clientPort)
        feed(
            drive,
            .routed(SessionRoute(backend: backend, client: client, destination: drive.destination, certificateCN: nil)))
    }

    /// One dial the machine ordered: a source from the server's pool, then a plain socket.
    func dial(_ drive: RelayDrive, _ order: DialOrder) {
        let server = order.server
        if order.afterPortCollision { drive.listener.metrics.sourcePortCollisions.increment() }
        let acquired = server.acquireSource()
        if acquired == nil, !server.sourceIPs.isEmpty {
            // `source_ports` pools of every source IP are full toward this server.
            drive.dialError = "every source_ports port taken"
            feed(drive, .dialFailed(.localResource(errno: EADDRNOTAVAIL)))
            return
        }
        if let acquired {
            drive.books.sourceTaken((acquired.ip, acquired.inUse), on: server, logger: drive.listener.logger)
        }
        let attempt = RelayDialAttempt(
            server: server, source: acquired?.ip, port: acquired?.port, header: order.proxyHeader)
        let address = server.config.address
        if let target = try? SocketAddress(ipAddress: address.host, port: address.port) {
            open([target], drive, attempt)
        } else {
            resolve(drive, attempt, timeout: order.timeout)
        }
    }

    /// Opens a plain socket to the first of `targets` that takes the connect() and gives it to the
    /// session: connected ones relay at once, others once the socket reports.
    func open(_ targets: [SocketAddress], _ drive: RelayDrive, _ attempt: RelayDialAttempt) {
        let bytes = drive.resend ? drive.pending : (attempt.header ?? []) + drive.pending
        let local = attempt.source.flatMap { try? SocketAddress(ipAddress: $0, port: attempt.port ?? 0) }
        var failure = EADDRNOTAVAIL
        for target in targets {
            switch UpstreamSocket.open(to: target, from: local, pickedPort: attempt.port != nil, sending: bytes) {
            case .opened(let fd, let sent, let connected):
                opened(drive, attempt, fd: fd, connected: connected, bytes: bytes, sent: sent)
                return
            case .failed(let code):
                failure = code
            }
        }
        drive.dialError = "connect: \(String(cString: strerror(failure))) (errno: \(failure))"
        attemptFailed(
            drive, attempt, DialFailure(errno: failure, stage: .connecting, pickedPort: attempt.port != nil))
    }

    /// A dial failed before a socket was the session's: its source goes back to the pool (a port
    /// taken outside it is marked so), and the machine decides what next.
    func attemptFailed(_ drive: RelayDrive, _ attempt: RelayDialAttempt, _ failure: DialFailure) {
        if let source = attempt.source {
            drive.books.sourceReleased(
                source, port: UInt16(attempt.port ?? 0), on: attempt.server, collided: failure == .portCollision)
        }
        feed(drive, .dialFailed(failure))
    }

    /// The server's socket is open: the session is counted on the server and relays from now on.
    private func opened(
        _ drive: RelayDrive, _ attempt: RelayDialAttempt, fd: CInt, connected: Bool, bytes: [UInt8], sent: Int
    ) {
        let session = drive.session
        drive.books.serverOpened(attempt.server, source: attempt.source)
        if attempt.source == nil {
            drive.books.upstreamLocalIP = SocketAddressText.local(of: fd).map { SocketAddressText.ipAndPort($0).ip }
        }
        drive.books.sourcePort = UInt16(attempt.port ?? 0)
        if connected { PassiveHealth.dialSucceeded(attempt.server, events: drive.listener.events) }
        let clientBytes = drive.resend ? [] : drive.pending
        drive.pending = []
        drive.resend = false
        clientBytes.withUnsafeBytes { feed(drive, .dialOpened(connected: connected, sent: $0)) }
        if session.tracker == nil { session.tracker = drive.machine.takeClientStream() }
        // Each server's stream starts anew.
        session.serverTracker = drive.machine.connect == nil ? nil : MQTTStreamTracker()
        guard drive.machine.phase == .relaying, !session.isEnded else {
            Glibc.close(fd)
            return
        }
        attach(
            RelayServerSocket(
                fd: fd, connected: connected, bytes: bytes, sentCount: sent, replayable: drive.machine.keepsReplay),
            to: session)
        if connected, !session.isEnded { feed(drive, .serverConnected) }
    }

    /// A connect in progress completed: passive health hears of it, and the session still goes to
    /// this server unless a failover moved traffic away meanwhile.
    func connectedDriven(_ drive: RelayDrive) -> Bool {
        guard let server = drive.books.server else { return true }
        PassiveHealth.dialSucceeded(server, events: drive.listener.events)
        return PassiveHealth.stillChosen(
            server, tried: drive.machine.tried, backend: drive.machine.backend?.name, routing: drive.listener.routing)
    }

    /// The server was lost before it answered (the client is parked): the machine goes on with the
    /// next candidate, with every byte sent so far, or refuses the client.
    func dialLost(_ drive: RelayDrive, _ loss: RelayDialLoss) {
        guard drive.machine.phase == .relaying else { return }
        drive.pending = loss.resend
        drive.resend = true
        if loss.failure == .superseded, let server = drive.books.server {
            PassiveHealth.dialSuperseded(server, logger: drive.listener.logger)
        }
        let before = drive.machine.unansweredCloses
        let server = drive.machine.target
        feed(drive, .dialFailed(loss.failure))
        drive.books.noteUnanswered(drive.listener, machine: drive.machine, before: before, server: server)
    }

    /// A server addressed by name: resolved on NIO's thread pool (the system resolver blocks), within
    /// the backend's connect timeout; the answer comes back as a command.
    private func resolve(_ drive: RelayDrive, _ attempt: RelayDialAttempt, timeout: Duration) {
        drive.resolveDeadline = now &+ timeout.nanosecondsClamped
        var attempt = attempt
        attempt.begun = now
        drive.resolving = attempt
        arm(drive, drive.machine.deadline)
        let address = attempt.server.config.address
        let session = drive.session
        NIOThreadPool.singleton.submit { state in
            let result: Result<[SocketAddress], any Error>
            if case .cancelled = state {
                result = .failure(NameResolutionError(host: address.host, reason: "thread pool stopped"))
            } else {
                result = Result { try NameResolution.addresses(of: address.host, port: address.port) }
            }
            self.submit(.resolved(session, result))
        }
    }

    /// A name resolution answered (on this thread).
    func resolved(_ session: RelayedSession, _ result: Result<[SocketAddress], any Error>) {
        guard let drive = session.drive, !session.isEnded, let attempt = drive.resolving else { return }
        drive.resolving = nil
        drive.resolveDeadline = 0
        switch result {
        case .success(let targets):
            open(targets, drive, attempt)
        case .failure(let error):
            drive.dialError = "\(error)"
            attemptFailed(drive, attempt, PassiveHealth.dialFailure(error, port: attempt.port))
        }
    }

    /// A name resolution took longer than the connect timeout.
    func resolveTimedOut(_ drive: RelayDrive) {
        guard let attempt = drive.resolving else { return }
        let begun = MonotonicTime(nanoseconds: attempt.begun)
        drive.resolving = nil
        drive.resolveDeadline = 0
        drive.dialError = "resolving \(attempt.server.config.address.host) took longer than the connect timeout"
        attemptFailed(drive, attempt, .timedOut(begunAt: begun))
    }
}

/// One dial of a relay-driven session: the server, the source taken for it, and the PROXY header.
struct RelayDialAttempt {
    var server: ServerRuntime
    var source: String?
    var port: Int?
    var header: [UInt8]?
    /// When a name resolution for it began (CLOCK_MONOTONIC ns).
    var begun: UInt64 = 0
}
