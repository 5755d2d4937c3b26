import CEpoll
import FrontCore
import MQTTWire

#if canImport(Glibc)
    import Glibc
#endif

/// One session on a relay thread. Relay thread only.
final class RelayedSession {
    static let client = 0
    static let server = 1

    /// One socket of the session and what is waiting to be written to it.
    struct Side {
        let fd: CInt
        var interest = EPOLLIN.rawValue
        var registered = false
        /// Out of the epoll set until it has an interest again (connect phase).
        var parked = false
        /// Its peer sent FIN (read returned 0).
        var inputClosed = false
        /// We sent FIN (`shutdown(SHUT_WR)`).
        var outputShut = false
        /// Bytes read from the other side that this socket has not taken yet; empty (no storage) mostly.
        var backlog: [UInt8] = []
        var backlogStart = 0

        /// Polled for reading only, open both ways, nothing waiting: it can change epoll sets.
        var movable: Bool {
            registered && !parked && interest == EPOLLIN.rawValue && !inputClosed && !outputShut && backlog.isEmpty
        }
    }

    let link: RelayLink
    /// The session's machine and books, from accept to close; nil once it ended
    /// (``RelayEngine/finishDriven(_:reason:)`` lets go).
    var drive: RelayDrive?
    var client: Side
    var server: Side
    /// The client's packets (MQTT, until it sent DISCONNECT).
    var tracker: MQTTStreamTracker?
    /// The server's packets (MQTT), from its first byte: where a move may cut the stream.
    var serverTracker: MQTTStreamTracker?
    /// Set while the session is being moved off its server (``RelayEngine/beginMove(_:_:)``).
    var move: SessionMove?
    var firstToFinish: CloseReason?
    var isEnded = false
    /// Connect phase: the server socket's connect() is in progress (the client is parked).
    var connecting = false
    /// Connect phase: no server socket (none dialed yet, or the last was lost before answering); the
    /// client is parked until the session machine dials the next one, refuses or closes.
    var waitingForServer = false
    /// The server sent a byte (kept on the link, where the session's deadline reads it).
    var answered: Bool { link.answered.load(ordering: .relaxed) }
    /// Whether ``replay`` is kept once connected.
    var replayable = false
    /// Every byte sent toward the current server while it has not answered (connect phase only).
    var replay: [UInt8]?
    /// MQTT 5: the broker's first bytes, until its CONNACK is read.
    var probe: ConnAckKeepAliveProbe?
    /// When it came to a relay thread (CLOCK_MONOTONIC ns): `relay_spread` moves it once old enough.
    var since: UInt64 = 0

    /// `relay_assist`: the batch that last saw it (``RelayAssist/mark``) and its item there, or -1
    /// when the relay thread handles it alone in that batch.
    var batchMark: UInt32 = 0
    var batchItem = -1

    /// Where the session is in its engine's table (kept on the link, where a close request finds it).
    var slot: Int { link.slot }

    /// Relaying both ways with nothing waiting, past its connect phase and its server's first
    /// answer: it can change threads (`relay_spread`), and the assist thread may relay it.
    var isPlain: Bool {
        !isEnded && !connecting && !waitingForServer && probe == nil && replay == nil && move == nil
            && client.movable && server.movable
    }

    init(client: CInt, server: CInt, link: RelayLink, tracker: MQTTStreamTracker?) {
        self.client = Side(fd: client)
        self.server = Side(fd: server)
        self.link = link
        self.tracker = tracker
    }

    subscript(side: Int) -> Side {
        _read { if side == Self.client { yield client } else { yield server } }
        _modify {
            if side == Self.client { yield &client } else { yield &server }
        }
    }
}
