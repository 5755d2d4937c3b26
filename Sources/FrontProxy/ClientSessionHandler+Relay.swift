import FrontCore
import Logging
import MQTTWire
import NIOCore

extension ClientSessionHandler {
    /// Bytes from the broker: write them to the client (flushed at the upstream's read-complete).
    func deliverFromServer(_ buffer: ByteBuffer) {
        guard let context, phase == .relaying else { return }
        let count = buffer.readableBytes
        if replay != nil {
            // The broker answered: no more retries, so neither the CONNECT copy nor the list of servers
            // tried is needed for the rest of the session.
            replay = nil
            tried = []
        }
        if connackProbe != nil { probeConnAck(buffer) }
        bytesOut &+= UInt64(count)
        listener.metrics.bytesOut.increment(by: Int64(count))
        if connect == nil {
            // tcp: "no bytes either way" is what idle means.
            lastActivityTick = loop.tickNow()
        }
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    /// MQTT 5.0 §3.2.2.3.14: a Server Keep Alive in the broker's CONNACK replaces the client's
    /// keepalive, so the idle deadline follows it. Only the first packet is looked at (bounded);
    /// the relay stays byte-transparent.
    private func probeConnAck(_ buffer: ByteBuffer) {
        guard var probe = connackProbe else { return }
        guard let verdict = probe.feed(buffer.readableBytesView) else {
            connackProbe = probe
            return
        }
        connackProbe = nil
        if case .value(let seconds) = verdict { applyServerKeepAlive(seconds) }
    }

    /// The broker's Server Keep Alive replaces the client's Keep Alive: the idle deadline follows it.
    func applyServerKeepAlive(_ seconds: UInt16) {
        if let idle = KeepalivePolicy.idleTimeout(keepAlive: seconds, listener: listener.config) {
            idleTicks = TimerWheel.ticks(for: idle)
        } else {
            idleTicks = 0
        }
        scheduleRelayDeadline()
    }

    /// The next tick the relaying session needs the wheel: its idle deadline or its relay thread's
    /// connect deadline, whichever is first.
    var nextRelayDeadline: Int64? {
        var next = idleTicks > 0 ? lastActivityTick + idleTicks : Int64.max
        if relayConnectDeadline > 0 { next = min(next, relayConnectDeadline) }
        return next == .max ? nil : next
    }

    /// (Re)schedules the relaying session on the wheel for ``nextRelayDeadline``.
    func scheduleRelayDeadline() {
        if let next = nextRelayDeadline {
            loop.wheel.schedule(self, at: next)
        } else {
            loop.wheel.cancel(self)
        }
    }

    func flushToClient() {
        context?.flush()
    }

    /// The broker's side became writable or not: resume client reads when it can take more.
    func upstreamWritabilityChanged(_ writable: Bool) {
        guard writable, readPending, phase == .relaying, let context else { return }
        readPending = false
        context.read()
    }

    /// The broker half-closed: pass the FIN on to the client, or end when both sides are done.
    func serverInputClosed() {
        if replay != nil {
            // The broker hung up before answering anything: treat it as a failed dial (see upstreamClosed).
            upstream?.close()
            return
        }
        serverInputClosedFlag = true
        if firstToFinish == nil { firstToFinish = .serverClosed }
        if clientInputClosed {
            terminate(reason: firstToFinish ?? .clientClosed)
        } else {
            context?.close(mode: .output, promise: nil)
        }
    }

    /// The upstream channel closed.
    func upstreamClosed() {
        upstream = nil
        guard phase == .relaying else { return }
        if let replay, !clientInputClosed, let server {
            retryAfterSilentClose(of: server, replaying: replay)
            return
        }
        terminate(reason: firstToFinish ?? .serverClosed)
    }

    /// The broker closed before sending a single byte (it died between accepting and CONNACK, or
    /// refused the CONNECT without a word): nothing reached the client yet, so the session is given
    /// to the next server with the same bytes, once (``serverClosedUnanswered(_:)``).
    private func retryAfterSilentClose(of server: ServerRuntime, replaying bytes: ByteBuffer) {
        self.replay = nil
        serverSessionLost(server)
        phase = .dialing
        pending = bytes
        serverClosedUnanswered(server)
    }

    /// Writes the `session closed ...` line (INTERFACE.md, "Logs").
    func logClosed(reason: CloseReason) {
        let duration = MonotonicTime.now().since(started)
        let bytes = totalBytes
        var extra: Logger.Metadata = [:]
        if let certificateCN { extra["client_cn"] = .string(certificateCN) }
        listener.logger.info(
            "session closed",
            metadata: extra.merging([
                "client": .string(clientAddress),
                "client_id": .string(connect?.clientID ?? "-"),
                "backend": .string(backend?.name ?? listener.config.backend),
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
}
