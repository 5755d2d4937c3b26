import FrontConfig
import FrontTesting
import MQTTWire
import Testing

/// The idle deadline: Keep Alive × keepalive_factor, clamped by keepalive_min, from the client's last byte.
///
/// The backend is a ``FakeMQTTBroker``, which never enforces Keep Alive itself: mosquitto closes a
/// silent client at 1.5 × Keep Alive as well, and its close would race the front's.
@Suite("Keepalive idle timeout")
struct KeepaliveTests {
    @Test("a silent client is closed after ~1.5 × keepalive, a pinging one stays", arguments: Shell.allCases)
    func idleClose(shell: Shell) async throws {
        try await withFakeBroker { broker in
            let config = TestConfig.mqttFront(ports: [broker.port]) { listener in
                listener.keepaliveMin = .seconds(1)
                listener.keepaliveFactor = 1.5
            }
            try await withFront(config.on(shell)) { front in
                let port = try front.port()
                async let silent = silentClient(port: port)
                async let pinging = pingingClient(port: port)
                let (closedAfter, closedInTime) = try await silent
                let stillOpenAfter = try await pinging
                #expect(closedInTime)
                if let closedAfter {
                    #expect(closedAfter >= .milliseconds(2_900), "closed \(closedAfter) after the last byte")
                    #expect(closedAfter <= .milliseconds(4_500), "closed \(closedAfter) after the last byte")
                }
                #expect(stillOpenAfter >= .seconds(5), "the pinging client was closed after \(stillOpenAfter)")
                let line = await front.waitForSessionClosed(matching: ["client_id": "ka-silent"])
                #expect(line?["reason"] == "idle_timeout")
                let pingLine = await front.waitForSessionClosed(matching: ["client_id": "ka-pinging"])
                #expect(pingLine?["reason"] == "client_closed")
                #expect(await front.waitForActive(0))
            }
        }
    }

    @Test(
        "limits at the config parser's ends serve sessions: connect timeouts, keepalive_factor, accept_rate",
        arguments: Shell.allCases)
    func extremeDeadlines(shell: Shell) async throws {
        // Each once trapped (an Int64 overflow in the wheel's tick count, a Duration that could not hold
        // 65535 × 1e300 s, an admission queue size beyond Int), though `check` accepts them.
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(
                ports: [broker.port],
                listener: { listener in
                    listener.connectTimeout = .nanoseconds(Int64.max)
                    listener.keepaliveFactor = 1e300
                    listener.keepaliveMax = .nanoseconds(Int64.max)
                    listener.limits.acceptRate = Int.max
                },
                backend: { backend in backend.connectTimeout = .nanoseconds(Int64.max) })
            try await withFront(config.on(shell)) { front in
                let (client, code) = try await MQTTTestClient.connect(
                    port: try front.port(), clientID: "far-deadlines", keepAlive: 65535)
                #expect(code == 0)
                try await client.ping()
                #expect(try await client.readPacket(timeout: .seconds(2)).type == 13)
                await client.disconnect()
                let line = await front.waitForSessionClosed(matching: ["client_id": "far-deadlines"])
                #expect(line?["reason"] == "client_closed")
            }
        }
    }

    /// Connects with Keep Alive 2, then sends nothing; returns how long after its last byte (the
    /// CONNECT) the front closed it.
    private func silentClient(port: Int) async throws -> (Duration?, Bool) {
        let connect = MQTTConnect(version: .v3_1_1, keepAlive: 2, clientID: "ka-silent").encode()
        let connection = try await TestClient.connect(port: port, sending: connect)
        let connAck = try await connection.read(count: 4, timeout: .seconds(2))
        #expect(connAck == [0x20, 0x02, 0x00, 0x00])
        let closed = await connection.waitForClose(timeout: .seconds(6))
        // The CONNECT went out as the connection came up: that is the last byte.
        let lastByte = await connection.connectedAt()
        let at = await connection.closedAt()
        await connection.close()
        return (at.flatMap { closedAt in lastByte.map { closedAt - $0 } }, closed)
    }

    /// Connects with Keep Alive 2 and sends PINGREQ every second for 5.5 s; returns how long it stayed open.
    private func pingingClient(port: Int) async throws -> Duration {
        let start = ContinuousClock.now
        let (client, code) = try await MQTTTestClient.connect(port: port, clientID: "ka-pinging", keepAlive: 2)
        #expect(code == 0)
        while ContinuousClock.now - start < .milliseconds(5_500) {
            try await Task.sleep(for: .seconds(1))
            try await client.ping()
            let answer = try await client.readPacket(timeout: .seconds(2))
            #expect(answer.type == 13)
        }
        let openFor = await client.connection.closedAt().map { $0 - start } ?? ContinuousClock.now - start
        await client.disconnect()
        return openFor
    }
}
