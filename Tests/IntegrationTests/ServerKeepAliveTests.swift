import FrontTesting
import MQTTWire
import Testing

/// MQTT 5.0 §3.2.2.3.14: a broker's Server Keep Alive replaces the client's keepalive, and the front's
/// idle deadline follows it.
///
/// mosquitto 2.0.11 refuses `max_keepalive` below 10 ("Invalid max_keepalive value"), so the broker
/// here announces 10 s: with `keepalive_factor: 1.0` the front closes the silent 5.0 client after
/// ~10 s, before mosquitto's own 1.5 × 10 s check, and far before the 90 s the client's keepalive
/// 60 would give.
@Suite("MQTT 5 Server Keep Alive")
struct ServerKeepAliveTests {
    /// The property block of a 5.0 CONNACK body (after flags and reason): id → bytes (two-byte values only).
    static func serverKeepAlive(inConnAck body: [UInt8]) -> Int? {
        guard body.count >= 3, case .value(let length, let size) = MQTTVarInt.decode(body, from: 2) else { return nil }
        var index = 2 + size
        let end = min(body.count, index + length)
        while index < end {
            let id = body[index]
            index += 1
            switch id {
            case 0x13:
                guard index + 1 < end else { return nil }
                return Int(body[index]) << 8 | Int(body[index + 1])
            case 0x21, 0x22:
                index += 2
            case 0x24, 0x25, 0x28, 0x29, 0x2A:
                index += 1
            case 0x27:
                index += 4
            default:
                return nil  // a property this reader does not skip; not expected from mosquitto here
            }
        }
        return nil
    }

    @Test(
        "mosquitto max_keepalive 10: a silent 5.0 client asking 60 is closed by the front at ~10 s (idle_timeout); a 3.1.1 client is not",
        arguments: Shell.allCases)
    func serverKeepAliveDrivesIdleDeadline(shell: Shell) async throws {
        let broker = try await MosquittoProcess.start(extraConfig: ["max_keepalive 10"], timeout: .seconds(15))
        try await withStopping(broker, stop: { await $0.stop() }) { broker in
            let config = TestConfig.mqttFront(ports: [broker.port]) {
                $0.keepaliveFactor = 1.0
                $0.keepaliveMin = .seconds(1)
            }
            try await withFront(config.withPatientDials.on(shell)) { front in
                let port = try front.port()
                let clock = ContinuousClock()
                let (v3, v3Code) = try await MQTTTestClient.connect(port: port, clientID: "ska-v311", keepAlive: 60)
                #expect(v3Code == 0)

                // Timed from before the connect: the front's idle deadline counts from the relay's start,
                // which is later.
                let connectedAt = clock.now
                let v5 = try await MQTTTestClient.connect(
                    port: port, clientID: "ska-v5", version: .v5, keepAlive: 60)
                #expect(v5.connackCode == 0)
                // MQTTTestClient consumed the CONNACK; ask the broker directly what it announced.
                let probe = try await TestClient.connect(port: broker.port)
                try await probe.send(MQTTConnect(version: .v5, keepAlive: 60, clientID: "ska-probe").encode())
                let head = try await probe.read(count: 2, timeout: .seconds(3))
                let body = try await probe.read(count: Int(head[1]), timeout: .seconds(3))
                #expect(head[0] == 0x20)
                #expect(Self.serverKeepAlive(inConnAck: body) == 10, "CONNACK \(TestClientError.hex(head + body))")
                try await probe.send(MQTTPacket.disconnect)
                await probe.close()

                #expect(await v5.client.connection.waitForClose(timeout: .seconds(16)))
                let closedAfter = (await v5.client.connection.closedAt() ?? clock.now) - connectedAt
                print("\(shell) Server Keep Alive 10: the 5.0 client was closed after \(closedAfter)")
                // Mosquitto's own check would end it at 1.5 × 10 s; the front's deadline is 1.0 × 10 s.
                #expect(closedAfter >= .milliseconds(9900) && closedAfter < .seconds(14), "\(closedAfter)")
                let line = await front.waitForSessionClosed(matching: ["client_id": "ska-v5"])
                #expect(line?["reason"] == "idle_timeout", "\(String(describing: line))")

                // The 3.1.1 client (same broker, keepalive 60 → 60 s idle deadline) is still open.
                #expect(await v3.connection.closedAt() == nil)
                #expect(front.logs.sessionsClosed.filter { $0["client_id"] == "ska-v311" }.isEmpty)
                try await v3.ping()
                let pong = try await v3.readPacket(timeout: .seconds(3))
                #expect(pong.type == 13)
                await v3.disconnect()
            }
        }
    }
}
