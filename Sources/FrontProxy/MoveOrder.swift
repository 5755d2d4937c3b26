import FrontCore
import FrontSession

/// Which sessions a bulk move takes, why, and what their MQTT 5 clients are told: the request a
/// ``SessionMover`` hands every session owner, a few at a time.
struct MoveOrder: Sendable {
    let cause: MoveCause
    /// Sent to MQTT 5 clients with their DISCONNECT; nil or empty: none.
    let serverReference: String?
    /// Whether a session relaying to this server, routed by this key, is one to move.
    let selects: @Sendable (ServerRuntime, RoutingKey) -> Bool
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
