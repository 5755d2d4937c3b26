import FrontCore
import MQTTWire

@testable import FrontProxy

extension RelayEngine {
    /// Takes over an established session, as the tests' socket pairs are: both sockets relayed at
    /// once, the way a session another relay thread gave up arrives (`relay_spread`), with no session
    /// machine behind it (the link's `ended` tells how it ended).
    func adopt(client: CInt, server: CInt, link: RelayLink, tracker: MQTTStreamTracker?) {
        let session = RelayedSession(client: client, server: server, link: link, tracker: tracker)
        session.since = MonotonicTime.now().nanoseconds
        sessionCount.add(1, ordering: .relaxed)
        link.owner.store(index, ordering: .relaxed)
        submit(.immigrate(session))
    }
}
