import FrontCore
import FrontSession
import NIOCore

/// A session whose bytes a ``RelayEngine`` thread carries: the handler stays the session's record
/// on its loop (session table, deadlines, counters, the log line) and reads the relay's counters.
extension ClientSessionHandler {
    /// The relay thread finished the session (nil reason: closed on our request).
    func relayEnded(_ ending: CloseReason?) {
        guard relay != nil else { return }
        // The relay thread closed both sides already: only the reason is the machine's.
        _ = machine.handle(.terminate(ending ?? .clientClosed), at: loop.now())
        finish()
        releaseConnectionSlots()
        // The link's `ended` callback holds this handler: let go of the link, or each relayed
        // session would keep itself (and through `loop`, its front) alive for good.
        (bytesIn, bytesOut) = totalBytes
        relay = nil
    }

    /// Bytes read and written so far, including the relay thread's share.
    var totalBytes: (in: UInt64, out: UInt64) {
        guard let relay else { return (bytesIn, bytesOut) }
        return (
            bytesIn &+ relay.clientBytes.load(ordering: .relaxed),
            bytesOut &+ relay.serverBytes.load(ordering: .relaxed)
        )
    }

    /// The idle clock of a relayed session: its last byte as the relay thread saw it.
    func refreshActivityFromRelay() {
        guard let relay else { return }
        // Answered: no retry is left to make, so the servers tried need not be kept.
        if !machine.answered, relay.answered.load(ordering: .relaxed) { feed(.serverAnswered) }
        let last = relay.lastActivity.load(ordering: .relaxed)
        guard last > 0 else { return }
        feed(.activity(MonotonicTime(nanoseconds: last)))
    }
}
