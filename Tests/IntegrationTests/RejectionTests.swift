import FrontTesting
import MQTTWire
import Testing

/// What a client sees when the front refuses it before any broker does, and how it is counted.
@Suite("Rejection paths")
struct RejectionTests {
    @Test("not a CONNECT, bad protocol level, oversized CONNECT, no CONNECT in time", arguments: Shell.allCases)
    func rejections(shell: Shell) async throws {
        // No broker is ever dialled on these paths; the server points at a closed port.
        let config = TestConfig.mqttFront(ports: [FreePort.refusing()]) { listener in
            listener.connectTimeout = .seconds(1)
            listener.maxConnectSize = 512
        }
        try await withFront(config.on(shell)) { front in
            let port = try front.port()
            func rejected(_ reason: String) -> Double? {
                front.metric("brokerfront_connections_rejected_total", ["listener": "mqtt", "reason": reason])
            }
            #expect(rejected("malformed_connect") == 0)

            // An HTTP request instead of a CONNECT.
            // Each first packet goes out as the connection comes up (`sending:`), so a task the pool
            // resumes late cannot find it already closed by the 1 s connect_timeout.
            let http = try await TestClient.connect(port: port, sending: Array("GET / HTTP/1.1\r\n\r\n".utf8))
            #expect(try await http.readUntilClose(timeout: .seconds(2)) == [])
            await http.close()
            #expect(await Poll.until(timeout: .seconds(2)) { rejected("malformed_connect") == 1 })

            // A CONNECT announcing protocol level 9: return code 1, unacceptable protocol level (3.1.1
            // §3.1.2.2), then the close, as a broker answers it.
            var badLevel = MQTTConnect(version: .v3_1_1, clientID: "bad-level").encode()
            badLevel[8] = 9  // 0x10, length, 0x00 0x04 "MQTT", then the level byte.
            let level = try await TestClient.connect(port: port, sending: badLevel)
            #expect(try await level.readUntilClose(timeout: .seconds(2)) == [0x20, 0x02, 0x00, 0x01])
            await level.close()
            #expect(await Poll.until(timeout: .seconds(2)) { rejected("malformed_connect") == 2 })

            // A CONNECT bigger than max_connect_size (512): a 1,000-byte password.
            let big = MQTTConnect(
                version: .v3_1_1, clientID: "big", username: "u", password: Array(repeating: 0x41, count: 1_000)
            ).encode()
            // The front may close while this is still being written.
            let oversized = try await TestClient.connect(port: port, sending: big)
            #expect(await oversized.waitForClose(timeout: .seconds(2)))
            #expect(try await oversized.buffered() == [])
            await oversized.close()
            #expect(await Poll.until(timeout: .seconds(2)) { rejected("malformed_connect") == 3 })

            // Nothing at all: closed after connect_timeout (1 s).
            // Timed from before the connect: the client's own record of its connect can come late on a
            // busy event loop, which would make the front look early.
            let beforeConnect = ContinuousClock.now
            let silent = try await TestClient.connect(port: port)
            #expect(await silent.waitForClose(timeout: .seconds(3)))
            let closedAfter = try #require(await silent.closedAt()) - beforeConnect
            await silent.close()
            #expect(closedAfter >= .milliseconds(900), "closed \(closedAfter) after connecting")
            #expect(closedAfter <= .milliseconds(3_000), "closed \(closedAfter) after connecting")
            #expect(await Poll.until(timeout: .seconds(2)) { rejected("connect_timeout") == 1 })

            #expect(rejected("malformed_connect") == 3)
            #expect(await front.waitForActive(0))
            #expect(front.metric("brokerfront_connections_total", ["listener": "mqtt"]) == 4)
            let reasons = front.logs.sessionsClosed.compactMap { $0["reason"] }.sorted()
            #expect(reasons == ["connect_timeout", "malformed_connect", "malformed_connect", "malformed_connect"])
        }
    }
}
