import MQTTWire

@testable import FrontProxy

extension RelayEngine {
    /// Takes over an established session, as the tests' socket pairs are: a dial already connected,
    /// with nothing to send and nothing to report.
    func adopt(client: CInt, server: CInt, link: RelayLink, tracker: MQTTStreamTracker?) {
        let dial = RelayServerDial(fd: server, connected: true, bytes: [], sentCount: 0, replayable: false)
        adoptDialing(client: client, dial: dial, link: link, tracker: tracker)
    }
}
