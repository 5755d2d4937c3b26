import FrontCore
import FrontSession
import Logging
import MQTTWire
import NIOCore

extension ClientSessionHandler {
    /// Bytes from the broker: write them to the client (flushed at the upstream's read-complete).
    func deliverFromServer(_ buffer: ByteBuffer) {
        guard machine.phase == .relaying else { return }
        if move != nil { deliverWhileMoving(buffer) } else { deliverToClient(buffer) }
    }

    /// Writes broker bytes to the client, following the broker's packets.
    func deliverToClient(_ buffer: ByteBuffer) {
        guard let context else { return }
        let count = buffer.readableBytes
        // The machine needs the broker's bytes until its first answer (and an MQTT 5 CONNACK) is
        // read, and on `tcp`, where they are activity.
        if !machine.answered || machine.readsServerBytes {
            buffer.withUnsafeReadableBytes { feed(.serverBytes($0)) }
            // Answered: no more retries, so the CONNECT copy is not needed for the rest of the session.
            if !machine.isReplaying { replay = nil }
        }
        if serverPackets != nil { buffer.withUnsafeReadableBytes { serverPackets?.feed($0) } }
        bytesOut &+= UInt64(count)
        listener.metrics.bytesOut.increment(by: Int64(count))
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flushToClient() {
        context?.flush()
    }

    /// The broker's side became writable or not: resume client reads when it can take more.
    func upstreamWritabilityChanged(_ writable: Bool) {
        if writable { resumeClientReads() }
    }

    /// The broker half-closed: the machine passes the FIN on, ends the session, or (before any
    /// answer) drops the connection for a replay.
    func serverInputClosed() {
        if isSayingFarewell {
            farewellClosed(.server, channelGone: false)
            return
        }
        abandonMove()
        feed(.inputClosed(.server))
    }

    /// The upstream channel closed.
    func upstreamClosed() {
        upstream = nil
        if isSayingFarewell {
            farewellClosed(.server, channelGone: true)
            return
        }
        abandonMove()
        noteUnanswered { feed(.serverClosed) }
    }

    /// Runs `body` (which tells the machine the server is gone) and logs when it counted a server
    /// that closed on the CONNECT without answering.
    func noteUnanswered(_ body: () -> Void) {
        let before = machine.unansweredCloses
        let server = machine.target
        body()
        books.noteUnanswered(listener, machine: machine, before: before, server: server)
    }
}
