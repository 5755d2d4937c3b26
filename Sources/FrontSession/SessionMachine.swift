import FrontCore
import MQTTWire

/// The decisions of one client session, from accept to close, without sockets, threads or clocks:
/// the driver (``Event``s in, ``Action``s out) owns the connections, the bytes, the
/// shared limiters and the timers; the machine owns what they mean.
///
/// It calls FrontCore directly where FrontCore is itself a pure decision with an injected time
/// (``BackendRuntime/choose(for:at:excluding:)``): the dial sequence (attempts, servers tried) is then
/// one piece of code, and tests drive it with real backends whose servers they mark up or down.
/// Resources with a life beyond one decision (source IPs and ports, connection slots, counters) stay
/// with the driver, which takes them when it carries out a ``Action/dial(_:)``.
///
/// Time comes with each event (`at:`); deadlines are values (``Action/arm(_:)``), never timers.
public struct SessionMachine {
    /// Where the session is.
    public enum Phase: Sendable, Equatable {
        /// Accepted; the accept-time checks have not answered yet.
        case accepting
        /// Waiting for the PROXY header (`accept_proxy_protocol`).
        case awaitingProxyHeader
        /// Waiting for a whole CONNECT (mqtt listeners).
        case sniffing
        /// The CONNECT is here (or the listener is `tcp`): the listener's filters are asked.
        case admitting
        /// Over `accept_rate`, queued (at accept on TLS listeners, or after the CONNECT).
        case awaitingAdmission
        /// Admitted: the backend is being resolved.
        case routing
        /// A server is being dialed; nothing reached a server that could still answer.
        case dialing
        /// The server's connection is open (or opening on a relay thread): bytes flow.
        case relaying
        /// Closing; nothing more is read, routed or decided.
        case closing
    }

    public let settings: SessionSettings
    public internal(set) var phase = Phase.accepting
    /// Accept plus `connect_timeout`: the PROXY header, the CONNECT and any admission wait must be
    /// done by then.
    public let connectDeadline: MonotonicTime
    /// The client's CONNECT once parsed (without password, Will and properties).
    public internal(set) var connect: MQTTConnect?
    /// Why the session ended (the first reason recorded wins, except a refusal's own).
    public internal(set) var reason: CloseReason?
    /// Which side finished first (a FIN, or the client's DISCONNECT): who is blamed for the close.
    public internal(set) var firstToFinish: CloseReason?
    /// What the balancer routes this session by (its CONNECT's fields, its address, its certificate).
    public var routingKey: RoutingKey {
        RoutingKey(
            clientID: connect?.clientID, username: connect?.username, sourceIP: clientIP, certificateCN: certificateCN)
    }
    /// Why the session was moved, when it ended ``CloseReason/moved``.
    public internal(set) var moveCause: MoveCause?
    public internal(set) var clientInputClosed = false
    public internal(set) var serverInputClosed = false
    var queuedAtAccept = false

    // Routing and dialing (kept apart rather than as a ``SessionRoute``: a session's size matters).
    /// The backend the session was routed to.
    public internal(set) var backend: BackendRuntime?
    /// The PROXY header for the broker (`send_proxy_protocol`), made once at routing.
    var proxyHeader: [UInt8]?
    /// What routing keys on besides the CONNECT: the client's IP, and the subject CN of its
    /// certificate (TLS listeners with `client_ca`).
    var clientIP = ""
    public internal(set) var certificateCN: String?
    /// Servers tried for this session (not retried); emptied once a server answered.
    public internal(set) var tried: [ServerRuntime] = []
    public internal(set) var attemptsLeft = 0
    /// The server of the current dial (or relay).
    public internal(set) var target: ServerRuntime?
    var dialBegunAt: MonotonicTime
    /// Dials retried on another source port because this one was taken outside the pool.
    public internal(set) var portCollisions: UInt8 = 0
    /// Servers that closed on the CONNECT without answering.
    public internal(set) var unansweredCloses: UInt8 = 0

    // Relaying.
    /// The bytes sent to the server are kept (by the driver) for the next one, until it answers.
    public internal(set) var isReplaying = false
    var replayCount = 0
    /// The server sent a byte.
    public internal(set) var answered = false
    var probe: ConnAckKeepAliveProbe?
    /// MQTT: packet boundaries of what the client sends, to notice its DISCONNECT (the driver may
    /// take it to a relay thread: ``takeClientStream()``).
    var clientStream: MQTTStreamTracker?
    var idleTimeout: Duration?
    /// The client's last byte (and, on `tcp`, the server's): the idle deadline runs from it.
    public internal(set) var lastActivity: MonotonicTime
    /// A connect in progress on a relay thread must complete by then.
    var dialDeadline: MonotonicTime?

    /// Most port collisions one session retries before it counts as a failed dial.
    public static let maxPortCollisions: UInt8 = 16
    /// Two servers in a row closing on the CONNECT without a byte of answer end the session.
    public static let unansweredClosesToRefuse: UInt8 = 2

    /// A session accepted at `acceptedAt`: its connect deadline runs from then.
    public init(settings: SessionSettings, acceptedAt: MonotonicTime) {
        self.settings = settings
        self.connectDeadline = acceptedAt.adding(settings.connectTimeout)
        self.dialBegunAt = acceptedAt
        self.lastActivity = acceptedAt
    }

    /// Takes in one event at `now` and says what to do, in order.
    public mutating func handle(_ event: Event, at now: MonotonicTime) -> Actions {
        var actions = Actions()
        switch event {
        case .admission(let verdict): admission(verdict, into: &actions)
        case .proxyHeader(let valid): proxyHeader(valid: valid, into: &actions)
        case .clientBytes(let bytes): clientBytes(bytes, at: now, into: &actions)
        case .routed(let route): routed(route, at: now, into: &actions)
        case .dialOpened(let connected, let sent): dialOpened(connected: connected, sent: sent, at: now, into: &actions)
        case .serverConnected: serverConnected(into: &actions)
        case .dialFailed(let failure): dialFailed(failure, at: now, into: &actions)
        case .serverBytes(let bytes): serverBytes(bytes, at: now, into: &actions)
        case .serverAnswered: serverAnswered()
        case .serverKeepAlive(let seconds): serverKeepAlive(seconds, into: &actions)
        case .serverClosed: serverClosed(at: now, into: &actions)
        case .clientClosed: close(firstToFinish ?? .clientClosed, into: &actions)
        case .inputClosed(let side): inputClosed(side, into: &actions)
        case .activity(let time): if time > lastActivity { lastActivity = time }
        case .tick: tick(at: now, into: &actions)
        case .terminate(let reason): close(reason, into: &actions)
        case .moved(let cause):
            if reason == nil { moveCause = cause }
            close(.moved, into: &actions)
        }
        return actions
    }

    /// The moment the machine needs its next ``Event/tick``, if any.
    public var deadline: MonotonicTime? {
        switch phase {
        case .accepting, .awaitingProxyHeader, .sniffing, .admitting, .awaitingAdmission:
            return connectDeadline
        case .relaying:
            let idle = idleTimeout.map { lastActivity.adding($0) }
            guard let dialDeadline else { return idle }
            return idle.map { min($0, dialDeadline) } ?? dialDeadline
        case .routing, .dialing, .closing:
            return nil
        }
    }

    /// Whether the bytes sent to the server are kept until it answers, to be given to the next one
    /// if it closes first: MQTT with a retry left, or after a first unanswered close, so that a
    /// second one is told from a server that closed an answered session.
    public var keepsReplay: Bool { connect != nil && (attemptsLeft > 0 || unansweredCloses > 0) }

    /// Whether the server's bytes still matter after its first answer: an MQTT 5 CONNACK still being
    /// read, or `tcp`, where they are activity.
    public var readsServerBytes: Bool { probe != nil || connect == nil }

    /// Whether the broker's first packet is still read for an MQTT 5 Server Keep Alive.
    public var readsConnAck: Bool { probe != nil }

    /// Whether a connect in progress (relay thread) is still awaited.
    public var awaitsConnect: Bool { dialDeadline != nil }

    /// Where the client's packets stand (MQTT, until it sent DISCONNECT or stopped looking like
    /// MQTT): a SwiftNIO session moved off its server cuts its stream at their boundaries.
    public var clientPackets: MQTTStreamTracker? { clientStream }

    /// Hands the client's packet tracker over (to a relay thread, which tracks from now on).
    public mutating func takeClientStream() -> MQTTStreamTracker? {
        defer { clientStream = nil }
        return clientStream
    }

    /// Records `reason` (unless one is) and closes both sides.
    mutating func close(_ reason: CloseReason, into actions: inout Actions) {
        if self.reason == nil { self.reason = reason }
        phase = .closing
        actions.append(.close(self.reason ?? reason))
    }

    /// Answers a client the front cannot serve, then closes: an MQTT client gets a CONNACK with the
    /// refusal for its protocol version, a `tcp` client just a close; `reply`, when given, instead.
    mutating func refuse(_ reason: CloseReason, reply: [UInt8]? = nil, into actions: inout Actions) {
        self.reason = reason
        phase = .closing
        var bytes = reply ?? []
        if reply == nil, let connect {
            bytes = MQTTConnAck.bytes(version: connect.version, refusal: Self.refusal(for: reason))
        }
        actions.append(.refuse(reason, reply: bytes))
    }

    /// The CONNACK refusal an MQTT client gets for `reason`.
    public static func refusal(for reason: CloseReason) -> MQTTRefusal {
        switch reason {
        case .limit: .quotaExceeded
        case .denied: .clientIdentifierRejected
        default: .serverUnavailable
        }
    }

    /// The connect deadline before the relay, the dial and idle deadlines while relaying.
    mutating func tick(at now: MonotonicTime, into actions: inout Actions) {
        switch phase {
        case .accepting, .awaitingProxyHeader, .sniffing, .admitting, .awaitingAdmission:
            guard now >= connectDeadline else {
                actions.append(.arm(connectDeadline))
                return
            }
            close(phase == .awaitingProxyHeader ? .proxyProtocol : .connectTimeout, into: &actions)
        case .relaying:
            if let dialDeadline, now >= dialDeadline {
                self.dialDeadline = nil
                actions.append(.abortDial)
            }
            if let idleTimeout, now >= lastActivity.adding(idleTimeout) {
                close(.idleTimeout, into: &actions)
                return
            }
            actions.append(.arm(deadline))
        case .routing, .dialing, .closing:
            actions.append(.arm(nil))
        }
    }
}
