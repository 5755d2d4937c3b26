import FrontCore
import MQTTWire

extension ClientSessionHandler {
    /// Refuses a client whose first packet is not a valid CONNECT, with what a broker would answer
    /// (``MQTTConnectError/reply(version:)``): a close alone for 3.1/3.1.1 (MQTT 3.1.1 §3.1.4), CONNACK
    /// 0x81 Malformed Packet or 0x82 Protocol Error before the close for 5.0 (MQTT 5.0 §3.1.4, §4.13.1),
    /// return code 1 for an unsupported protocol level. Counted as `malformed_connect`; no server sees it.
    func refuseMalformed(_ error: MQTTConnectError) {
        let version = pending?.withUnsafeReadableBytes { MQTTConnectParser.announcedVersion($0) }
        listener.logger.debug(
            "refusing client: not a valid CONNECT",
            metadata: ["client": .string(clientAddress), "error": .string("\(error)")])
        refuse(.malformedConnect, sending: error.reply(version: version))
    }

    /// Two servers in a row closing on the CONNECT without a byte of answer end the session: by then the
    /// CONNECT is what they refuse, not their health.
    static let unansweredClosesToRefuse: UInt8 = 2

    /// Whether the bytes sent to the server are kept until it answers, to be given to the next one if it
    /// closes first: MQTT with a retry left, or after a first unanswered close, so that a second one is
    /// told from a server that closed an answered session.
    var keepsReplay: Bool { connect != nil && (attemptsLeft > 0 || unansweredCloses > 0) }

    /// The server closed (or reset) the connection after the client's bytes were sent, before answering
    /// one. That is never evidence against the server: a broker closes so on a CONNECT it refuses
    /// (MQTT 3.1.1 §3.1.4), so passive health notes nothing. The first such close gives the CONNECT to the
    /// next server; a second closes the client without a CONNACK, as the brokers did, counted as
    /// `unanswered_connect`.
    func serverClosedUnanswered(_ server: ServerRuntime) {
        unansweredCloses &+= 1
        listener.logger.debug(
            "server closed before answering the CONNECT",
            metadata: [
                "client": .string(clientAddress), "backend": .string(server.backendName),
                "server": .string(server.name), "closes": "\(unansweredCloses)",
            ])
        guard unansweredCloses < Self.unansweredClosesToRefuse else {
            refuse(.unansweredConnect, sending: [])
            return
        }
        dialNext()
    }
}
