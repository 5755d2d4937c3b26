import FrontTesting
import MQTTWire
import Testing

/// `max_connections` on a listener: over the cap, accepting pauses (no reset), and resumes when a slot frees.
@Suite("Listener max_connections")
struct ConnectionLimitTests {
    @Test(
        "a third client waits in the backlog until one of two closes, then gets its CONNACK", arguments: Shell.allCases)
    func thirdClientWaits(shell: Shell) async throws {
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(ports: [broker.port]) { $0.maxConnections = 2 }
            try await withFront(config.on(shell)) { front in
                let port = try front.port()
                let (first, firstCode) = try await MQTTTestClient.connect(port: port, clientID: "cap-1")
                let (second, secondCode) = try await MQTTTestClient.connect(port: port, clientID: "cap-2")
                #expect(firstCode == 0 && secondCode == 0)

                // The kernel completes the handshake (backlog); the front does not accept it yet.
                let third = try await TestClient.connect(port: port)
                try await third.send(MQTTConnect(version: .v3_1_1, clientID: "cap-3").encode())
                await #expect(throws: TestClientError.timedOut(received: [])) {
                    _ = try await third.read(count: 4, timeout: .milliseconds(700))
                }
                #expect(await third.closedAt() == nil, "the third client was closed instead of held")

                await first.disconnect()
                let connAck = try await third.read(count: 4, timeout: .seconds(3))
                #expect(connAck == [0x20, 0x02, 0x00, 0x00])
                #expect(await third.closedWithError() == nil)
                #expect(front.metric("brokerfront_connections_rejected_total", ["reason": "limit"]) == 0)

                await second.disconnect()
                try await third.send(MQTTPacket.disconnect)
                await third.close()
                #expect(await front.waitForActive(0))
            }
        }
    }
}
