import FrontSession
import MQTTWire
import NIOCore

/// Moving a SwiftNIO session off its server, the way a relay thread moves its own: each direction
/// finishes the packet it is in (relaying nothing past its end), then the broker gets DISCONNECT
/// 0x00 on the client's behalf, so it publishes no Will, and the client an MQTT 5 DISCONNECT (0x9C,
/// or 0x8B when the front stops) or, before MQTT 5, just the close. A `tcp` session just closes.
///
/// Reads are withheld on a side once it is at a packet boundary; bytes a read already brought past
/// it are dropped (the client is leaving: what it sent after that packet is lost, as with any close).
extension ClientSessionHandler {
    /// Relaying to a server that answered, with nothing to replay and both ways open: its streams
    /// have a known shape.
    var isMovable: Bool {
        machine.phase == .relaying && move == nil && upstream?.channel?.isActive == true && machine.answered
            && replay == nil && !machine.readsConnAck && !machine.awaitsConnect && !machine.clientInputClosed
            && !machine.serverInputClosed
    }

    /// Starts moving the session off its server for `order`: an MQTT one finishes its packets
    /// first, any other closes now.
    func beginMove(_ order: MoveOrder) {
        guard let version = machine.connect?.version, machine.clientPackets?.isTracking == true,
            serverPackets?.isTracking == true
        else {
            feed(.moved(order.cause))
            return
        }
        let goodbye =
            version == .v5
            ? MQTTPacket.serverDisconnect(
                reasonCode: order.cause.clientReasonCode, serverReference: order.serverReference) : []
        move = ChannelMove(
            cause: order.cause, clientGoodbye: goodbye,
            deadlineTick: loop.tickNow() + TimerWheel.ticks(for: ChannelMove.packetWait))
        scheduleDeadline()
        advanceMove()
    }

    /// Whether a peer's close belongs to the move's farewell (the move then ends the session).
    var isSayingFarewell: Bool { move?.stage == .farewell && machine.phase == .relaying }

    /// Whether the client's side may be read now.
    ///
    /// While relaying, when the broker's side takes more; in a move, only to finish the packet in
    /// flight, then, after the DISCONNECTs, until the client closes.
    var mayReadClient: Bool {
        guard let move else { return upstream?.isWritable ?? false }
        switch move.stage {
        case .finishingPackets: return !clientAtBoundary && (upstream?.isWritable ?? false)
        case .farewell: return !move.clientClosed
        }
    }

    /// Whether the broker's side may be read now: ``mayReadClient`` the other way.
    var mayReadServer: Bool {
        guard let move else { return isClientWritable }
        switch move.stage {
        case .finishingPackets: return !serverAtBoundary && isClientWritable
        case .farewell: return !move.serverClosed
        }
    }

    private var clientAtBoundary: Bool { machine.clientPackets?.isAtPacketBoundary ?? true }
    private var serverAtBoundary: Bool { serverPackets?.isAtPacketBoundary ?? true }

    /// Reads the client again if a read was withheld and it may be read now.
    func resumeClientReads() {
        guard readPending, machine.phase == .relaying, mayReadClient, let context else { return }
        readPending = false
        context.read()
    }

    /// Client bytes read during a move: relays what finishes the packet in flight, drops the rest.
    func relayWhileMoving(_ buffer: ByteBuffer) {
        guard move?.stage == .finishingPackets else { return }
        let wanted = buffer.withUnsafeReadableBytes { machine.clientPackets?.prefixToPacketBoundary(of: $0) ?? 0 }
        if wanted > 0, let packetEnd = buffer.getSlice(at: buffer.readerIndex, length: wanted) {
            relayToServer(packetEnd)
            upstream?.flush()
        }
        advanceMove()
    }

    /// Broker bytes read during a move: delivers what finishes the packet in flight, drops the rest.
    func deliverWhileMoving(_ buffer: ByteBuffer) {
        guard move?.stage == .finishingPackets else { return }
        let wanted = buffer.withUnsafeReadableBytes { serverPackets?.prefixToPacketBoundary(of: $0) ?? 0 }
        if wanted > 0, let packetEnd = buffer.getSlice(at: buffer.readerIndex, length: wanted) {
            deliverToClient(packetEnd)
            flushToClient()
        }
        advanceMove()
    }

    /// Takes the move one step on.
    ///
    /// While a direction is in the middle of a packet, reads it on; once both are at a boundary,
    /// writes the DISCONNECTs and closes output both ways; once both peers closed, ends the session
    /// (``CloseReason/moved``).
    func advanceMove() {
        guard var move, machine.phase == .relaying else { return }
        if move.stage == .finishingPackets {
            guard clientAtBoundary, serverAtBoundary else {
                resumeClientReads()
                upstream?.resumeReads()
                return
            }
            move.stage = .farewell
            move.deadlineTick = loop.tickNow() + TimerWheel.ticks(for: ChannelMove.farewellWait)
            self.move = move
            scheduleDeadline()
            sayFarewell(move.clientGoodbye)
        }
        if move.clientClosed, move.serverClosed { endMoved(move.cause) }
    }

    /// Writes DISCONNECT 0x00 to the broker and `goodbye` to the client, closes output both ways
    /// once written, and reads both until they close.
    private func sayFarewell(_ goodbye: [UInt8]) {
        if let upstream {
            upstream.write(ByteBuffer(bytes: MQTTPacket.disconnect))
            upstream.flush()
            upstream.shutdownOutput()
        }
        if let context {
            if !goodbye.isEmpty {
                context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: goodbye)), promise: nil)
            }
            context.flush()
            // Pending writes go out first (on TLS, then the close_notify); a channel that cannot
            // half-close is closed whole.
            let outputClosed = context.eventLoop.makePromise(of: Void.self)
            outputClosed.futureResult.assumeIsolated().whenFailure { _ in self.context?.close(promise: nil) }
            context.close(mode: .output, promise: outputClosed)
        }
        resumeClientReads()
        upstream?.resumeReads()
    }

    /// A peer closed during the farewell (`channelGone`: its channel closed): the session ends
    /// once both did.
    func farewellClosed(_ side: SessionSide, channelGone: Bool) {
        guard var move else { return }
        switch side {
        case .client:
            move.clientClosed = true
            move.clientGone = move.clientGone || channelGone
        case .server:
            move.serverClosed = true
        }
        self.move = move
        advanceMove()
    }

    /// A peer left in the middle of a packet: not a move any more; the session ends as it would have.
    func abandonMove() {
        guard move != nil else { return }
        move = nil
        scheduleDeadline()
        resumeClientReads()
        upstream?.resumeReads()
    }

    /// Ends the session as moved for `cause`; a plain close for a move whose packets did not finish.
    func endMoved(_ cause: MoveCause) {
        let clientGone = move?.clientGone ?? false
        move = nil
        feed(.moved(cause))
        // The client's channel closed first (during the farewell): the end is booked now.
        if clientGone { finish() }
    }
}
