import CEpoll
import MQTTWire

#if canImport(Glibc)
    import Glibc
#endif

/// The connect phase of driven sessions: the client is parked until the server socket is connected
/// and what waits for it is written; a server lost before it answered goes back to the session machine.
extension RelayEngine {
    /// Gives a session the server socket it just opened: connected ones start relaying at once,
    /// others wait for the socket to report.
    func attach(_ socket: RelayServerSocket, to session: RelayedSession) {
        session.waitingForServer = false
        session.server = RelayedSession.Side(fd: socket.fd)
        session.replay = socket.bytes
        session.replayable = socket.replayable
        session.server.backlog = Array(socket.bytes[min(socket.sentCount, socket.bytes.count)...])
        session.server.backlogStart = 0
        session.server.parked = true
        if session.drive?.machine.connect?.version == .v5, !session.answered {
            session.probe = ConnAckKeepAliveProbe()
        }
        if socket.connected {
            established(session)
            return
        }
        session.connecting = true
        if !setInterest(session, side: RelayedSession.server, Self.readable | Self.writable) {
            lose(session, .failed(errno: errno, resend: socket.bytes))
        }
    }

    /// The server socket of a connecting session reported: connected, or failed (SO_ERROR).
    func connectFinished(_ session: RelayedSession) {
        var code: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        if getsockopt(session.server.fd, SOL_SOCKET, SO_ERROR, &code, &length) != 0 { code = errno }
        guard code == 0 else {
            lose(session, .failed(errno: code, resend: session.replay ?? []))
            return
        }
        guard session.drive.map(connectedDriven) ?? true else {
            lose(session, .superseded(resend: session.replay ?? []))
            return
        }
        established(session)
        if let drive = session.drive, !session.isEnded { feed(drive, .serverConnected) }
    }

    /// The server is connected: write what waits for it, then read both sides.
    func established(_ session: RelayedSession) {
        session.connecting = false
        if !session.replayable { session.replay = nil }
        let server = RelayedSession.server
        let start = session.server.backlogStart
        let fd = session.server.fd
        let sent = session.server.backlog.withUnsafeBytes { bytes in
            bytes.count == start ? 0 : bytes.baseAddress.flatMap { Self.sendSome(fd, $0 + start, bytes.count - start) }
        }
        guard let sent else {
            fail(session, side: server)
            return
        }
        session.server.backlogStart += sent
        let drained = session.server.backlogStart == session.server.backlog.count
        if drained {
            session.server.backlog = []
            session.server.backlogStart = 0
        }
        guard setInterest(session, side: server, drained ? Self.readable : Self.readable | Self.writable) else {
            end(session, reason: .error)
            return
        }
        // The client is read once what it sent so far is with the server.
        if drained, !setInterest(session, side: RelayedSession.client, Self.readable) {
            end(session, reason: .error)
        }
    }

    /// Whether losing the server now is a failed attempt to retry elsewhere rather than the end:
    /// it sent nothing yet, the bytes for the next one are all here, and the client is still there.
    func canReplay(_ session: RelayedSession) -> Bool {
        session.drive != nil && session.replay != nil && !session.answered
            && !session.client.inputClosed
    }

    /// The server is gone before answering: close its socket, park the client, and let the session
    /// machine dial the next server or give up.
    func lose(_ session: RelayedSession, _ loss: RelayDialLoss) {
        guard let drive = session.drive, !session.client.inputClosed else {
            end(session, reason: .serverClosed)
            return
        }
        if session.server.fd >= 0 { Glibc.close(session.server.fd) }
        session.server = RelayedSession.Side(fd: -1)
        // Out of the epoll set while it waits: a hang-up now would otherwise be reported in a loop.
        session.client.parked = true
        setInterest(session, side: RelayedSession.client, 0)
        session.connecting = false
        session.waitingForServer = true
        session.replay = nil
        session.probe = nil
        dialLost(drive, loss)
    }
}
