import FrontSession

/// A SwiftNIO session on its way off its server: the ``SessionMove`` of a ``ClientSessionHandler``.
///
/// First each direction finishes the packet it is in, then the broker gets DISCONNECT (0x00) and
/// the client its goodbye, and the session ends once both peers have closed. Deadlines are wheel
/// ticks of the session's loop. Event-loop bound.
struct ChannelMove {
    let cause: MoveCause
    /// What the client is sent last: an MQTT 5 server DISCONNECT, or nothing (3.1, 3.1.1).
    let clientGoodbye: [UInt8]
    var stage = SessionMove.Stage.finishingPackets
    /// The wheel tick at which the current stage gives up: a packet still unfinished then, or a
    /// peer that has not closed, ends the session at once.
    var deadlineTick: Int64
    /// Farewell: the client closed (its FIN, or its channel is gone).
    var clientClosed = false
    /// Farewell: the client's channel is gone (its end is booked when the session ends).
    var clientGone = false
    /// Farewell: the broker closed (its FIN, or its channel is gone).
    var serverClosed = false

    /// How long a packet in flight may take to arrive whole once a move began.
    static let packetWait = Duration.nanoseconds(Int64(SessionMove.packetWait))
    /// How long the peers get to close after their DISCONNECTs.
    static let farewellWait = Duration.nanoseconds(Int64(SessionMove.farewellWait))
}
