import FrontConfig
import FrontCore
import FrontSession
import Logging

/// The books one session keeps besides its decisions: who the client is, the shared slots and
/// budgets it holds, the server it is counted on and the source it dials from, and the end of all
/// of it (gauges, counters, releases, the `session closed` line).
///
/// A value kept inline by whichever driver runs the session (``ClientSessionHandler`` or a relay thread's ``RelayDrive``), so
/// every driver books a session's end the same way. The listener is passed in, not kept: a
/// session's size matters.
struct SessionBooks {
    let started: MonotonicTime
    var clientAddress = "-"
    var clientIP = ""
    var clientPort = 0
    /// Whether this session holds a slot of its source IP's `per_source_ip` count (taken at accept,
    /// or after the PROXY header).
    var holdsSourceSlot = false
    /// Bytes of a CONNECT still arriving counted in the listener's `max_pending_connect_bytes`.
    var heldConnectBytes = 0
    /// The server the session relays to, counted on it (nil before, and after it was lost).
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
    /// Whether the session was counted on its server (the relay began).
    var upstreamWasOpened = false

    init(started: MonotonicTime) {
        self.started = started
    }

    /// Records the client's address (from the socket, or from a PROXY header).
    mutating func setClient(ip: String, port: Int) {
        clientIP = ip
        clientPort = port
        clientAddress = Endpoint(host: ip, port: port).description
    }

    /// Counts the connection against its client IP's `per_source_ip`; false when over it.
    mutating func acquireSourceSlot(_ listener: ListenerRuntime) -> Bool {
        guard listener.config.limits.perSourceIP > 0, !holdsSourceSlot else { return true }
        guard listener.sourceLimiter.tryAcquire(clientIP) else { return false }
        holdsSourceSlot = true
        return true
    }

    /// The CONNECT arrived whole, or the connection ended: its bytes leave the pending budget.
    mutating func releaseConnectBytes(_ listener: ListenerRuntime) {
        guard heldConnectBytes > 0 else { return }
        listener.pendingConnect.release(heldConnectBytes)
        heldConnectBytes = 0
    }

    /// The session relays to `server` now (from `source`): counted on it until it ends or is lost.
    mutating func serverOpened(_ server: ServerRuntime, source: String?) {
        self.server = server
        sourceIP = source
        upstreamWasOpened = true
        server.sessionOpened()
        serverMetrics = snapshotMetrics?.metrics(for: server)
        serverMetrics?.active.increment()
    }

    /// `server` was lost before it answered: the session is no longer counted on it, and its source
    /// port is given back.
    mutating func serverLost(_ server: ServerRuntime) {
        server.sessionClosed()
        serverMetrics?.active.decrement()
        if let sourceIP { sourceReleased(sourceIP, port: sourcePort, on: server) }
        serverMetrics = nil
        upstreamWasOpened = false
        self.server = nil
        sourceIP = nil
        upstreamLocalIP = nil
        sourcePort = 0
    }

    /// Counts an upstream port of `acquired.ip` toward `server`, and warns once when that pair
    /// reaches 80% of the ephemeral port range (the classic 64k wall, per destination).
    func sourceTaken(_ acquired: (ip: String, inUse: Int), on server: ServerRuntime, logger: Logger) {
        snapshotMetrics?.sourcePorts(for: acquired.ip)?.increment()
        let range = server.sourcePorts?.count ?? PortRange.size
        guard acquired.inUse == range * 8 / 10 else { return }
        logger.warning(
            server.sourcePorts == nil
                ? "source IP near its port range toward a server: add source_ips or widen ip_local_port_range"
                : "source IP near its source_ports range toward a server: add source_ips or widen source_ports",
            metadata: [
                "source_ip": .string(acquired.ip), "backend": .string(server.backendName),
                "server": .string(server.name), "in_use": "\(acquired.inUse)", "port_range": "\(range)",
            ])
    }

    /// Gives back a source port counted by ``sourceTaken(_:on:logger:)`` (`port` 0: the kernel picked it).
    func sourceReleased(_ ip: String, port: UInt16, on server: ServerRuntime, collided: Bool = false) {
        server.releaseSource(ip, port: port == 0 ? nil : Int(port), collided: collided)
        snapshotMetrics?.sourcePorts(for: ip)?.decrement()
    }

    /// Books the end of the session (call once): the listener's gauge and rejection counters, the
    /// `per_source_ip` slot, pending CONNECT bytes, the server's count and gauge, the source, and
    /// the `session closed` line. The connection slots (listener and global) are the driver's.
    mutating func close(_ listener: ListenerRuntime, machine: SessionMachine, bytes: (in: UInt64, out: UInt64)) {
        listener.metrics.active.decrement()
        let reason = machine.reason ?? .clientClosed
        if reason.isRejection { listener.metrics.countRejection(reason) }
        if holdsSourceSlot { listener.sourceLimiter.release(clientIP) }
        releaseConnectBytes(listener)
        if machine.phase == .closing, let server, upstreamWasOpened {
            server.sessionClosed()
            serverMetrics?.active.decrement()
            if reason == .moved, let cause = machine.moveCause { serverMetrics?.countMoved(cause) }
            if let sourceIP { sourceReleased(sourceIP, port: sourcePort, on: server) }
        }
        logClosed(listener, machine: machine, reason: reason, bytes: bytes)
    }

    /// The `session closed` line.
    func logClosed(
        _ listener: ListenerRuntime, machine: SessionMachine, reason: CloseReason, bytes: (in: UInt64, out: UInt64)
    ) {
        let duration = MonotonicTime.now().since(started)
        var extra: Logger.Metadata = [:]
        if let certificateCN = machine.certificateCN { extra["client_cn"] = .string(certificateCN) }
        if reason == .moved, let cause = machine.moveCause { extra["cause"] = .string(cause.rawValue) }
        listener.logger.info(
            "session closed",
            metadata: extra.merging([
                "client": .string(clientAddress),
                "client_id": .string(machine.connect?.clientID ?? "-"),
                "backend": .string(machine.backend?.name ?? listener.config.backend),
                "server": .string(server?.name ?? "-"),
                "source": .string(sourceIP ?? upstreamLocalIP ?? "-"),
                "duration": .string(Self.format(duration)),
                "bytes_in": .stringConvertible(bytes.in),
                "bytes_out": .stringConvertible(bytes.out),
                "reason": .string(reason.rawValue),
            ]) { _, new in new })
    }

    /// `1.2s`, `350ms`: a session's duration, short and exact enough to read.
    static func format(_ duration: Duration) -> String {
        let seconds = duration.secondsDouble
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 100 { return "\((seconds * 10).rounded() / 10)s" }
        return "\(Int(seconds.rounded()))s"
    }

    /// Logs when the machine counted a server that closed on the CONNECT without answering (its
    /// count was `before`; `server` is the one it was sent to).
    func noteUnanswered(_ listener: ListenerRuntime, machine: SessionMachine, before: UInt8, server: ServerRuntime?) {
        guard machine.unansweredCloses != before, let server else { return }
        listener.logger.debug(
            "server closed before answering the CONNECT",
            metadata: [
                "client": .string(clientAddress), "backend": .string(server.backendName),
                "server": .string(server.name), "closes": "\(machine.unansweredCloses)",
            ])
    }

    /// The session as `GET /sessions` lists it.
    func info(
        _ listener: ListenerRuntime, machine: SessionMachine, bytes: (in: UInt64, out: UInt64), now: MonotonicTime
    ) -> SessionInfo {
        SessionInfo(
            client_id: machine.connect?.clientID, client: clientAddress, listener: listener.config.name,
            backend: machine.backend?.name, server: server?.name, source: sourceIP ?? upstreamLocalIP,
            age_seconds: SessionInfo.age(from: started, to: now), bytes_in: bytes.in, bytes_out: bytes.out)
    }
}
