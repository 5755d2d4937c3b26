import FrontCore
import FrontSession
import Logging
import ProxyProtocol

#if canImport(Glibc)
    import Glibc
#endif

/// Sessions the relay thread drives from accept to close: it feeds each session's
/// ``SessionMachine`` what happens and carries out what it says, on this thread (no session changes
/// threads but by a whole move, `relay_spread`). The channel shell (``ClientSessionHandler``) drives
/// the same machine for TLS listeners and without relay threads.
extension RelayEngine {
    /// A connection whose CONNECT is settled (or that ended before) becomes a driven session,
    /// after this pass (so a slot freed in the pass is not reused while its stale events may come).
    func startSession(_ sniffer: RawSniffer, _ outcome: RawAccepted.Outcome) {
        let link = RelayLink(
            serverBytesAreActivity: sniffer.runtime.config.protocol == .tcp,
            bytesIn: sniffer.runtime.metrics.bytesIn, bytesOut: sniffer.runtime.metrics.bytesOut
        ) { _ in }
        link.owner.store(index, ordering: .relaxed)
        let session = RelayedSession(client: sniffer.fd, server: -1, link: link, tracker: nil)
        session.client.parked = true
        session.client.interest = 0
        session.waitingForServer = true
        session.since = now
        let drive = RelayDrive(
            session: session, engine: self, listener: sniffer.runtime, global: sniffer.acceptor.global,
            acceptedAt: MonotonicTime(nanoseconds: sniffer.acceptedAt), destination: sniffer.destination)
        session.drive = drive
        drive.books.holdsSourceSlot = sniffer.holdsSourceSlot
        drive.books.heldConnectBytes = sniffer.heldConnectBytes
        let client = sniffer.client
        drive.books.setClient(ip: client.ip, port: client.port)
        if let refusal = sniffer.proxyRefusal {
            drive.listener.logger.debug(
                "refusing client: \(refusal)", metadata: ["client": .string(drive.books.clientAddress)])
        }
        sessionCount.add(1, ordering: .relaxed)
        insert(session)
        // Bytes of an unfinished PROXY header are not the client's.
        if !sniffer.bytes.isEmpty, !sniffer.awaitingProxyHeader {
            link.clientBytes.add(UInt64(sniffer.bytes.count), ordering: .relaxed)
            link.bytesIn.increment(by: Int64(sniffer.bytes.count))
            drive.pending = sniffer.bytes
        }
        arm(drive, drive.machine.deadline)
        switch outcome {
        case .ready:
            feed(drive, .admission(.admitted))
            if drive.listener.config.acceptProxyProtocol { feed(drive, .proxyHeader(valid: true)) }
        case .clientClosed:
            feed(drive, .inputClosed(.client))
        case .ended(let reason):
            feed(drive, .terminate(reason))
        }
    }

    /// Tells the machine `event`, now, and does what it says.
    func feed(_ drive: RelayDrive, _ event: SessionMachine.Event) {
        perform(drive, drive.machine.handle(event, at: MonotonicTime(nanoseconds: now)))
    }

    /// Carries out the machine's actions in order (those that lead to a new event come last).
    func perform(_ drive: RelayDrive, _ actions: SessionMachine.Actions) {
        for action in actions {
            let session = drive.session
            switch action {
            case .arm(let time):
                arm(drive, time)
            case .admit:
                drive.books.releaseConnectBytes(drive.listener)
                admit(drive)
            case .sniffPending:
                drive.pending.withUnsafeBytes { feed(drive, .clientBytes($0)) }
            case .route:
                route(drive)
            case .dial(let order):
                dial(drive, order)
            case .dialFailed(let server, let failure, let counts):
                PassiveHealth.dialFailed(
                    server, failure, counts: counts, error: drive.dialError, listener: drive.listener)
                drive.dialError = nil
            case .serverLost:
                if let server = drive.books.server { drive.books.serverLost(server) }
            case .dropServer:
                if session.server.fd >= 0 { lose(session, .silent(resend: session.replay ?? [])) }
            case .invalidConnect(let error):
                drive.listener.logger.debug(
                    "refusing client: not a valid CONNECT",
                    metadata: ["client": .string(drive.books.clientAddress), "error": .string("\(error)")])
            case .refuse(_, let reply):
                refuse(drive, sending: reply)
            case .shutdownOutput(let side):
                shutdownOutput(session, side: side == .client ? RelayedSession.client : RelayedSession.server)
            case .close:
                end(session, reason: nil)
            case .abortDial:
                if session.connecting { lose(session, .failed(errno: ETIMEDOUT, resend: session.replay ?? [])) }
            }
        }
    }

    /// Sends `bytes` (a refusing CONNACK, or nothing) to the client, then ends the session.
    private func refuse(_ drive: RelayDrive, sending bytes: [UInt8]) {
        let session = drive.session
        if !bytes.isEmpty, session.client.fd >= 0 {
            session.link.serverBytes.add(UInt64(bytes.count), ordering: .relaxed)
            session.link.bytesOut.increment(by: Int64(bytes.count))
            _ = bytes.withUnsafeBytes { raw in
                raw.baseAddress.flatMap { Self.sendSome(session.client.fd, $0, raw.count) }
            }
        }
        end(session, reason: nil)
    }

    /// Files the machine's next deadline (or a name resolution's) on the thread's wheel.
    func arm(_ drive: RelayDrive, _ time: MonotonicTime?) {
        var next = time?.nanoseconds ?? 0
        if drive.resolveDeadline > 0 { next = next == 0 ? drive.resolveDeadline : min(next, drive.resolveDeadline) }
        guard next > 0 else {
            drive.deadlineTick = 0
            wheel.cancel(drive)
            return
        }
        // +1: a tick rounds down, so without it the deadline could fire up to one tick early.
        drive.deadlineTick = Self.tick(of: next) + 1
        wheel.schedule(drive, at: drive.deadlineTick)
    }

    /// The wheel tick of a CLOCK_MONOTONIC moment (ns).
    static func tick(of nanoseconds: UInt64) -> Int64 {
        Int64(nanoseconds / TimerWheel.tickNanoseconds)
    }

    /// A session's deadline came: what the relay saw goes to the machine first (the server's first
    /// answer, the last activity), then the tick.
    func deadlineReached(_ drive: RelayDrive) {
        let link = drive.session.link
        if drive.resolveDeadline > 0, now >= drive.resolveDeadline { resolveTimedOut(drive) }
        if drive.machine.phase == .relaying {
            if !drive.machine.answered, link.answered.load(ordering: .relaxed) { feed(drive, .serverAnswered) }
            let last = link.lastActivity.load(ordering: .relaxed)
            if last > 0 { feed(drive, .activity(MonotonicTime(nanoseconds: last))) }
        }
        feed(drive, .tick)
    }

    /// Books the end of a driven session (its sockets are closed): the machine's reason, the
    /// books, the connection slots.
    func finishDriven(_ drive: RelayDrive, reason: CloseReason?) {
        wheel.cancel(drive)
        if drive.machine.phase != .closing {
            _ = drive.machine.handle(.terminate(reason ?? .clientClosed), at: MonotonicTime(nanoseconds: now))
        }
        let link = drive.session.link
        let bytes = (link.clientBytes.load(ordering: .relaxed), link.serverBytes.load(ordering: .relaxed))
        drive.books.close(drive.listener, machine: drive.machine, bytes: bytes)
        drive.listener.limiter.release()
        drive.global.release()
        drive.pending = []
        drive.session.drive = nil
    }
}
