import FrontConfig
import FrontTesting
import MQTTWire
import Testing

/// CONNECTs meant to take brokers out of rotation, against two real mosquitto brokers behind a plain
/// `mqtt` listener whose servers have no `health_check` (passive health only), on each ``Shell``: the
/// front's own refusal of what the spec forbids, and what happens to a CONNECT the front lets through
/// but every broker closes without answering.
@Suite("Hostile CONNECTs")
struct HostileConnectTests {
    /// How many hostile clients connect at once.
    static let attackers = 10

    /// A 3.1.1 or 5.0 CONNECT with a Will on `topic`, whatever the topic holds (the encoder does not check).
    static func willConnect(_ version: MQTTProtocolVersion, clientID: String, topic: String) -> [UInt8] {
        MQTTConnect(version: version, clientID: clientID, will: MQTTWill(topic: topic, payload: [1])).encode()
    }

    /// Connects `count` clients at once, each sending its `packet(index)`, and returns what each received
    /// before the front closed it (nil for a client still open after 8 s).
    static func attack(port: Int, count: Int, packet: @escaping @Sendable (Int) -> [UInt8]) async -> [[UInt8]?] {
        await withTaskGroup(of: (Int, [UInt8]?).self) { group in
            for index in 0..<count {
                group.addTask {
                    guard let client = try? await TestClient.connect(port: port, sending: packet(index)) else {
                        return (index, nil)
                    }
                    let received = try? await client.readUntilClose(timeout: .seconds(8))
                    await client.close()
                    return (index, received)
                }
            }
            var answers = [[UInt8]?](repeating: nil, count: count)
            for await (index, received) in group { answers[index] = received }
            return answers
        }
    }

    /// Both servers are still up (gauge and log), and a well-formed client is served by a broker.
    static func expectServersUp(_ front: RunningFront, brokers: [MosquittoProcess], shell: Shell) async throws {
        for server in ["b1", "b2"] {
            #expect(
                front.metric("brokerfront_server_up", ["backend": "brokers", "server": server]) == 1,
                "\(shell) \(server)\n\(front.logs.controlLines)")
        }
        #expect(!front.logs.all.contains { $0.message == "server down" }, "\(shell)\n\(front.logs.controlLines)")
        let (client, code) = try await MQTTTestClient.connect(port: try front.port(), clientID: "well-formed")
        #expect(code == 0, "\(shell)\n\(front.logs.controlLines)")
        #expect(brokers.contains { $0.clientsConnected().contains { $0.clientID == "well-formed" } })
        await client.disconnect()
    }

    @Test(
        "an empty or wildcard Will Topic is refused by the front itself, counted as malformed_connect; no server goes down",
        arguments: Shell.allCases)
    func forbiddenWillTopics(shell: Shell) async throws {
        try await withMosquittos(2) { brokers in
            var config = TestConfig.mqttFront(ports: brokers.map(\.port))
            shell.apply(to: &config)
            try await withFront(config) { front in
                let port = try front.port()
                // 3.1.1: closed without a CONNACK (3.1.1 §3.1.4); 5.0: CONNACK 0x82 Protocol Error, then the close.
                let cases: [(version: MQTTProtocolVersion, topic: String, answer: [UInt8])] = [
                    (.v3_1_1, "", []), (.v3_1_1, "#", []), (.v3_1_1, "a/+", []),
                    (.v5, "", [0x20, 0x03, 0x00, 0x82, 0x00]), (.v5, "a/#", [0x20, 0x03, 0x00, 0x82, 0x00]),
                ]
                let answers = await Self.attack(port: port, count: Self.attackers) { index in
                    let pick = cases[index % cases.count]
                    return Self.willConnect(pick.version, clientID: "will-\(index)", topic: pick.topic)
                }
                for (index, answer) in answers.enumerated() {
                    let pick = cases[index % cases.count]
                    #expect(
                        answer == pick.answer,
                        "\(shell) \(pick.version) topic \(pick.topic): \(String(describing: answer))")
                }
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.metric("brokerfront_connections_rejected_total", ["reason": "malformed_connect"])
                            == Double(Self.attackers)
                    }, "\(shell) \(front.metricsText)")
                // Refused before any dial: no broker saw one of them (its log has only the start-up probe).
                for broker in brokers {
                    let log = broker.logText()
                    #expect(log.components(separatedBy: "New connection").count - 1 <= 1, "\(shell)\n\(log)")
                    #expect(!log.contains("protocol error"), "\(shell)\n\(log)")
                }
                try await Self.expectServersUp(front, brokers: brokers, shell: shell)
            }
        }
    }

    @Test(
        "each kind of forbidden CONNECT is answered as a broker would and counted as malformed_connect; no server is dialed",
        arguments: Shell.allCases)
    func forbiddenConnects(shell: Shell) async throws {
        let v5Name: [UInt8] = [0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x05]
        let v311Name: [UInt8] = [0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x04]
        let clientID: [UInt8] = [0x00, 0x01, 0x63]
        func packet(_ body: [UInt8]) -> [UInt8] { [0x10, UInt8(body.count)] + body }
        let cases: [(name: String, packet: [UInt8], answer: [UInt8])] = [
            ("3.1.1 reserved flag", packet(v311Name + [0x03, 0x00, 0x3C] + clientID), []),
            (
                "3.1.1 Will QoS 3", packet(v311Name + [0x1E, 0x00, 0x3C] + clientID + [0x00, 0x01, 0x74, 0x00, 0x00]),
                []
            ),
            ("3.1.1 password alone", packet(v311Name + [0x42, 0x00, 0x3C] + clientID + [0x00, 0x01, 0x70]), []),
            ("3.1.1 U+0000", packet(v311Name + [0x02, 0x00, 0x3C, 0x00, 0x02, 0x61, 0x00]), []),
            (
                "5.0 reserved flag", packet(v5Name + [0x03, 0x00, 0x3C, 0x00] + clientID),
                [0x20, 0x03, 0x00, 0x81, 0x00]
            ),
            (
                "5.0 Will Retain alone", packet(v5Name + [0x22, 0x00, 0x3C, 0x00] + clientID),
                [0x20, 0x03, 0x00, 0x81, 0x00]
            ),
            (
                "5.0 Session Expiry twice",
                packet(v5Name + [0x02, 0x00, 0x3C, 0x0A, 0x11, 0, 0, 0, 1, 0x11, 0, 0, 0, 1] + clientID),
                [0x20, 0x03, 0x00, 0x82, 0x00]
            ),
            (
                "protocol level 6", packet([0x00, 0x04, 0x4D, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x3C] + clientID),
                [0x20, 0x02, 0x00, 0x01]
            ),
        ]
        // No broker is ever dialled: the server points at a closed port.
        var config = TestConfig.mqttFront(ports: [FreePort.refusing()])
        shell.apply(to: &config)
        try await withFront(config) { front in
            let port = try front.port()
            for (index, (name, bytes, answer)) in cases.enumerated() {
                let client = try await TestClient.connect(port: port, sending: bytes)
                #expect(try await client.readUntilClose(timeout: .seconds(3)) == answer, "\(shell) \(name)")
                await client.close()
                #expect(
                    await Poll.until(timeout: .seconds(3)) {
                        front.metric("brokerfront_connections_rejected_total", ["reason": "malformed_connect"])
                            == Double(index + 1)
                    }, "\(shell) \(name)")
            }
            #expect(front.metric("brokerfront_server_up", ["backend": "brokers", "server": "b1"]) == 1)
            #expect(front.metric("brokerfront_connections_rejected_total", ["reason": "no_server"]) == 0)
        }
    }

    @Test(
        "a CONNECT the front lets through but both brokers close unanswered: the client is closed, counted as unanswered_connect; no server goes down, with or without a tcp check",
        arguments: Shell.allCases, [false, true])
    func unansweredConnect(shell: Shell, checked: Bool) async throws {
        try await withMosquittos(2) { brokers in
            var config = TestConfig.mqttFront(ports: brokers.map(\.port)) { _ in
            } backend: { backend in
                // A tcp check (its first pass brings a server up; a data-path failure would take it down at once).
                if checked { backend.healthCheck = HealthCheckConfig(type: .tcp, interval: .seconds(30)) }
            }
            shell.apply(to: &config)
            try await withFront(config) { front in
                let port = try front.port()
                let up = { (server: String) in
                    front.metric("brokerfront_server_up", ["backend": "brokers", "server": server]) == 1
                }
                #expect(await Poll.until(timeout: .seconds(5)) { up("b1") && up("b2") })
                // A control character in the client id: 3.1.1 §1.5.3 lets a receiver close on it (MAY), so
                // the front relays it; mosquitto closes without a CONNACK.
                let answers = await Self.attack(port: port, count: Self.attackers) { index in
                    MQTTConnect(version: .v3_1_1, clientID: "ctl\u{01}\(index)").encode()
                }
                for answer in answers {
                    #expect(answer == [], "\(shell): \(String(describing: answer))\n\(front.logs.controlLines)")
                }
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.metric("brokerfront_connections_rejected_total", ["reason": "unanswered_connect"])
                            == Double(Self.attackers)
                    }, "\(shell) \(front.metricsText)")
                let lines = front.logs.sessionsClosed.filter { $0["client_id"]?.hasPrefix("ctl") == true }
                #expect(lines.count == Self.attackers)
                #expect(lines.allSatisfy { $0["reason"] == "unanswered_connect" }, "\(lines)")
                // Each was replayed once, to the broker it was not sent to first: each broker closed all ten.
                for broker in brokers {
                    #expect(
                        await Poll.until(timeout: .seconds(3)) {
                            broker.logText().components(separatedBy: "disconnected due to protocol error").count - 1
                                == Self.attackers
                        }, "\(shell)\n\(broker.logText())")
                }
                try await Self.expectServersUp(front, brokers: brokers, shell: shell)
            }
        }
    }
}
