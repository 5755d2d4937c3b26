import FrontCore
import FrontSession
import Synchronization

/// Which sessions a bulk move takes, why, and what their MQTT 5 clients are told: the request a
/// ``SessionMover`` hands every session owner, a few at a time.
struct MoveOrder: Sendable {
    /// Tells orders apart (an owner keeps what it found for each one).
    let id: UInt64
    let cause: MoveCause
    /// Sent to MQTT 5 clients with their DISCONNECT; nil or empty: none.
    let serverReference: String?
    /// Whether a session relaying to this server, routed by this key, is one to move.
    let selects: @Sendable (ServerRuntime, RoutingKey) -> Bool

    private static let lastID = Atomic<UInt64>(0)

    init(
        cause: MoveCause, serverReference: String?, selects: @escaping @Sendable (ServerRuntime, RoutingKey) -> Bool
    ) {
        id = Self.lastID.add(1, ordering: .relaxed).newValue
        self.cause = cause
        self.serverReference = serverReference
        self.selects = selects
    }
}

/// One move order's sessions on a relay thread, the longest idle first, as the last full look at
/// the thread's table found them: later requests take from it instead of looking again. Relay
/// thread only.
struct MoveCandidates {
    var sessions: [RelayedSession]
    var next = 0
    /// When a request last used it (CLOCK_MONOTONIC ns); unused for a while, it is dropped.
    var lastUsed: UInt64

    /// How long a list is kept without a request.
    static let keep: UInt64 = 5_000_000_000
}

/// What one owner said of a ``MoveOrder`` it was given: how many moves it began now, how many of
/// its sessions the order still selects (waiting for their turn), and how many are on their way.
struct MoveTally: Sendable, Equatable {
    var started = 0
    var waiting = 0
    var moving = 0

    static func + (left: MoveTally, right: MoveTally) -> MoveTally {
        MoveTally(
            started: left.started + right.started, waiting: left.waiting + right.waiting,
            moving: left.moving + right.moving)
    }
}
