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

    @Test("admin.token: POSTs need it, GETs do not; a reload rotates it at once; dropping admin: keeps it")
    func tokenRotation() async throws {
        try await withMosquitto { broker in
            var config = TestConfig.mqttFront(ports: [broker.port], admin: true)
            config.admin?.token = "first-token"
            try await withFront(config) { front in
                let adminPort = try #require(front.runner.adminPort)
                func failback(_ token: String?) async throws -> Int {
                    let headers = token.map { ["Authorization": "Bearer \($0)"] } ?? [:]
                    return try await HTTPTestClient.request(
                        method: "POST", port: adminPort, path: "/backends/brokers/failback", headers: headers
                    ).status
                }
                #expect(try await HTTPTestClient.get(port: adminPort, path: "/status").status == 200)
                #expect(try await failback(nil) == 401)
                #expect(try await failback("first-toke") == 401)
                #expect(try await failback("first-tokenX") == 401)
                #expect(try await failback("first-token") == 200)

                var rotated = config
                rotated.admin?.token = "second-token"
                guard case .applied = await front.runner.reloader.reload(with: rotated) else {
                    Issue.record("reload was not applied")
                    return
                }
                #expect(try await failback("first-token") == 401)
                #expect(try await failback("second-token") == 200)
                #expect(front.logs.all.contains { $0.message == "admin token applied" })

                var dropped = config
                dropped.admin = nil
                guard case .applied = await front.runner.reloader.reload(with: dropped) else {
                    Issue.record("second reload was not applied")
                    return
                }
                #expect(try await failback(nil) == 401, "dropping admin: must not open the plane")
                #expect(try await failback("second-token") == 200)
            }
        }
    }
}
