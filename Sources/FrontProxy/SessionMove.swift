import FrontSession

/// A session on its way off its server, on a relay thread: first each direction finishes the
/// packet it is in, then the broker gets DISCONNECT (0x00) and the client its goodbye, and the
/// session ends once both have closed. A class, so a session that is not moving spends one
/// pointer on it. Relay thread only.
final class SessionMove {
    enum Stage {
        /// Reading only up to each direction's next packet boundary.
        case finishingPackets
        /// DISCONNECTs queued, FINs sent once written; waiting for both peers to close.
        case farewell
    }

    let cause: MoveCause
    /// The ``MoveOrder`` that began it.
    let orderID: UInt64
    /// What the client is sent last: an MQTT 5 server DISCONNECT, or nothing (3.1, 3.1.1).
    let clientGoodbye: [UInt8]
    var stage = Stage.finishingPackets
    /// When the current stage gives up (CLOCK_MONOTONIC ns): a packet still unfinished then, or a
    /// peer that has not closed, ends the session at once.
    var deadline: UInt64

    init(cause: MoveCause, orderID: UInt64, clientGoodbye: [UInt8], deadline: UInt64) {
        self.cause = cause
        self.orderID = orderID
        self.clientGoodbye = clientGoodbye
        self.deadline = deadline
    }

    /// How long a packet in flight may take to arrive whole once a move began.
    static let packetWait: UInt64 = 2_000_000_000
    /// How long the peers get to close after their DISCONNECTs.
    static let farewellWait: UInt64 = 2_000_000_000
}
