import FrontTesting
import Testing

/// The admin plane on a free port of 127.0.0.1: `/status` JSON and `/metrics` text.
@Suite("Admin HTTP")
struct AdminTests {
    @Test("GET /status and GET /metrics")
    func statusAndMetrics() async throws {
        try await withMosquitto { broker in
            try await withFront(TestConfig.mqttFront(ports: [broker.port], admin: true)) { front in
                let adminPort = try #require(front.runner.adminPort)
                let (client, code) = try await MQTTTestClient.connect(port: try front.port(), clientID: "admin-1")
                #expect(code == 0)

                let status = try await HTTPTestClient.get(port: adminPort, path: "/status")
                #expect(status.status == 200)
                #expect(status.headers["content-type"]?.hasPrefix("application/json") == true)
                let json = try JSONValue.parse(status.body)
                let listener = json["listeners"]?[0]
                #expect(listener?["name"]?.string == "mqtt")
                #expect(listener?["protocol"]?.string == "mqtt")
                #expect(listener?["bind"]?.string == "127.0.0.1:\(try front.port())")
                #expect(listener?["active_connections"]?.number == 1)
                let server = json["backends"]?[0]?["servers"]?[0]
                #expect(json["backends"]?[0]?["name"]?.string == "brokers")
                #expect(server?["state"]?.string == "up")
                #expect(server?["address"]?.string == "127.0.0.1:\(broker.port)")
                #expect(server?["active_connections"]?.number == 1)

                let metrics = try await HTTPTestClient.get(port: adminPort, path: "/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.body.contains("brokerfront_connections_total"))
                #expect(
                    PrometheusText.value(
                        of: "brokerfront_connections_total", labels: ["listener": "mqtt"], in: metrics.body) == 1)
                #expect(
                    PrometheusText.value(
                        of: "brokerfront_connections_active", labels: ["listener": "mqtt"], in: metrics.body) == 1)

                await client.disconnect()
                #expect(await front.waitForActive(0))
            }
        }
    }
}
