import FrontCore
import FrontSession

/// The operator's and the control plane's reach into a relay thread's sessions: listing them and
/// closing those a match names, on the thread (``SessionOwners`` asks every thread).
extension RelayEngine {
    /// This thread's sessions matching `filter`, for `GET /sessions`: their count and the first
    /// `keep` in sort order (client id, then client address).
    func describeSessions(_ filter: SessionFilter, keep: Int) -> RelaySessionsPart {
        let now = MonotonicTime.now()
        var (total, rows) = describeSniffers(filter, keep: keep, now: now)
        var first = SmallestElements<(clientID: String, client: String, drive: RelayDrive)>(capacity: keep) {
            ($0.clientID, $0.client) < ($1.clientID, $1.client)
        }
        for case let session? in sessions {
            guard let drive = session.drive, !session.isEnded else { continue }
            let clientID = drive.machine.connect?.clientID
            if let wanted = filter.clientID, clientID != wanted { continue }
            if let wanted = filter.server, drive.books.server?.name != wanted { continue }
            total += 1
            first.offer((clientID ?? "", drive.books.clientAddress, drive))
        }
        rows += first.sorted().map { entry in
            let link = entry.drive.session.link
            let bytes = (link.clientBytes.load(ordering: .relaxed), link.serverBytes.load(ordering: .relaxed))
            return entry.drive.books.info(entry.drive.listener, machine: entry.drive.machine, bytes: bytes, now: now)
        }
        return (total, rows)
    }

    /// Closes the sessions of this thread that the request names; returns how many. The request is
    /// kept a while for sessions on their way here (``closesMissed(by:)``).
    func closeSessions(_ request: RelayCloseRequest) -> Int {
        closesTaken = request.sequence
        var request = request
        request.takenAt = now
        recentCloses.removeAll { now &- $0.takenAt > RelayCloseRequest.memory }
        recentCloses.append(request)
        var victims: [RelayDrive] = []
        for case let session? in sessions {
            guard let drive = session.drive, !session.isEnded, request.names(drive) else { continue }
            victims.append(drive)
        }
        for drive in victims where !drive.session.isEnded { feed(drive, .terminate(request.reason)) }
        return closeSniffers(request.match, reason: request.reason) + victims.count
    }

    /// A session that came from another thread (`relay_spread`) is closed by the requests this
    /// thread took after that one's last, while it was on its way.
    func closesMissed(by drive: RelayDrive) {
        for request in recentCloses where request.sequence > drive.closesTaken && request.names(drive) {
            feed(drive, .terminate(request.reason))
            return
        }
    }
}

/// A request to close the sessions a match names, numbered in the order every relay thread gets them.
struct RelayCloseRequest: Sendable {
    var sequence: UInt64
    var match: SessionMatch
    var reason: CloseReason
    /// When the thread took it (CLOCK_MONOTONIC ns).
    var takenAt: UInt64 = 0
    /// How long a thread keeps requests for sessions moving to it: far longer than a move takes.
    static let memory: UInt64 = 5_000_000_000

    /// Whether it names this driven session, still open.
    func names(_ drive: RelayDrive) -> Bool {
        drive.machine.phase != .closing
            && match.matches(clientID: drive.machine.connect?.clientID, server: drive.books.server)
    }
}
