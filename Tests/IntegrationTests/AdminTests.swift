import Foundation
import FrontConfig
import FrontProxy
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
                #expect(json["draining"] == .bool(false))
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

    @Test("GET /status/history: a sample at start, then totals of sessions, connects and refusals by reason")
    func statusHistory() async throws {
        try await withMosquitto { broker in
            try await withFront(TestConfig.mqttFront(ports: [broker.port], admin: true)) { front in
                let adminPort = try #require(front.runner.adminPort)
                func history() async throws -> JSONValue {
                    let answer = try await HTTPTestClient.get(port: adminPort, path: "/status/history")
                    #expect(answer.status == 200)
                    #expect(answer.headers["content-type"]?.hasPrefix("application/json") == true)
                    return try JSONValue.parse(answer.body)
                }
                // The sampler takes its first sample as the front starts.
                let first = await Poll.value(timeout: .seconds(5)) { try? await history()["samples"]?[0] }
                #expect(first?["sessions"]?.number == 0)
                #expect(first?["connects"]?.number == 0)
                #expect(first?["moved"]?.number == 0)

                let (client, code) = try await MQTTTestClient.connect(port: try front.port(), clientID: "charted")
                #expect(code == 0)
                let http = try await TestClient.connect(
                    port: try front.port(), sending: Array("GET / HTTP/1.1\r\n\r\n".utf8))
                #expect(try await http.readUntilClose(timeout: .seconds(2)) == [])
                await http.close()
                #expect(
                    await Poll.until(timeout: .seconds(2)) {
                        front.metric("brokerfront_connections_rejected_total", ["reason": "malformed_connect"]) == 1
                    })
                #expect(await front.waitForActive(1))
                front.runner.history.sample()

                let json = try await history()
                #expect(json["interval_seconds"]?.number == 5)
                let samples: [JSONValue] = {
                    if case .array(let samples)? = json["samples"] { return samples }
                    return []
                }()
                #expect(samples.count >= 2, "\(json)")
                let last = samples.last
                #expect(last?["sessions"]?.number == 1)
                #expect(last?["connects"]?.number == 2)
                #expect(last?["rejected"]?["malformed_connect"]?.number == 1)
                #expect(last?["moved"]?.number == 0)
                let now = Date().timeIntervalSince1970
                #expect(abs((last?["t"]?.number ?? 0) - now) < 60, "t is Unix seconds")
                await client.disconnect()
            }
        }
    }

    @Test("the relay threads in /status, /metrics and the HTML page: count, slice, sessions they carry")
    func relayThreadsReported() async throws {
        try await withMosquitto { broker in
            try await withFront(TestConfig.mqttFront(ports: [broker.port], admin: true)) { front in
                let adminPort = try #require(front.runner.adminPort)
                let running = front.runner.proxy.relayStatus
                #expect(running.threads >= 1)
                let (client, code) = try await MQTTTestClient.connect(port: try front.port(), clientID: "on-relay")
                #expect(code == 0)
                // Handed off after 1 s of relaying.
                #expect(await Poll.until(timeout: .seconds(3)) { front.runner.proxy.relayedSessions == 1 })

                let json = try JSONValue.parse(try await HTTPTestClient.get(port: adminPort, path: "/status").body)
                #expect(json["relay"]?["threads"]?.number == Double(running.threads))
                #expect(json["relay"]?["sessions"]?.number == 1)
                let slice = json["relay"]?["slice"]?.string
                #expect(slice != nil && slice == running.slice)
                let metrics = try await HTTPTestClient.get(port: adminPort, path: "/metrics").body
                #expect(PrometheusText.value(of: "brokerfront_relay_threads", in: metrics) == Double(running.threads))
                #expect(PrometheusText.value(of: "brokerfront_relayed_sessions", in: metrics) == 1)
                let page = try await HTTPTestClient.get(port: adminPort, path: "/").body
                #expect(page.contains(#"<div class="n">1</div><div class="l">on "#))

                await client.disconnect()
                #expect(await front.waitForActive(0))
                let after = try await HTTPTestClient.get(port: adminPort, path: "/metrics").body
                #expect(PrometheusText.value(of: "brokerfront_relayed_sessions", in: after) == 0)
            }
        }
    }

    @Test("a reload moves the admin plane; an address it cannot bind keeps it where it was; removed, added")
    func reloadMovesPlane() async throws {
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(ports: [broker.port], admin: true)
            try await withFront(config) { front in
                let first = try #require(front.runner.adminPort)
                func serves(_ port: Int) async -> Bool {
                    (try? await HTTPTestClient.get(port: port, path: "/status").status) == 200
                }
                func reload(admin: AdminConfig?) async {
                    var next = config
                    next.admin = admin
                    guard case .applied = await front.runner.reloader.reload(with: next) else {
                        Issue.record("reload was not applied")
                        return
                    }
                }
                #expect(await serves(first))

                let second = FreePort.next()
                await reload(admin: AdminConfig(bind: Endpoint(host: "127.0.0.1", port: second)))
                #expect(await Poll.until(timeout: .seconds(5)) { front.runner.adminPort == second })
                #expect(await serves(second))
                #expect(await Poll.until(timeout: .seconds(5)) { await !serves(first) }, "the old address is let go")
                // Logged once the old plane has finished stopping, which may be just after its port closed.
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.logs.all.contains { $0.message == "admin plane moved" }
                    })

                // mosquitto listens there: the plane stays on `second`.
                await reload(admin: AdminConfig(bind: Endpoint(host: "127.0.0.1", port: broker.port)))
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        front.logs.all.contains { $0.message == "admin plane could not move; it serves where it was" }
                    })
                #expect(front.runner.adminPort == second)
                #expect(await serves(second))

                await reload(admin: nil)
                #expect(await Poll.until(timeout: .seconds(5)) { front.runner.adminPort == nil })
                #expect(await !serves(second))

                let third = FreePort.next()
                await reload(admin: AdminConfig(bind: Endpoint(host: "127.0.0.1", port: third)))
                #expect(await Poll.until(timeout: .seconds(5)) { front.runner.adminPort == third })
                #expect(await serves(third))
            }
        }
    }

    @Test("POST /reload that moves the plane is answered where it was asked, then the new address serves")
    func reloadOverHTTPMovesPlane() async throws {
        try await withMosquitto { broker in
            let directory = try TemporaryDirectory(prefix: "admin-move")
            defer { directory.remove() }
            let listenPort = FreePort.next()
            let first = FreePort.next()
            let second = FreePort.next()
            func config(admin: Int) -> String {
                "admin:\n  bind: 127.0.0.1:\(admin)\n"
                    + ExecutableTests.goodConfig(brokerPort: broker.port, port: listenPort)
            }
            let file = try directory.write(config(admin: first), to: "front.yaml")
            try await ExecutableTests.withRunningFront(config: file, in: directory) { child, port in
                #expect(port == listenPort)
                #expect(
                    await Poll.until(timeout: .seconds(5)) {
                        (try? await HTTPTestClient.get(port: first, path: "/status").status) == 200
                    })
                _ = try directory.write(config(admin: second), to: "front.yaml")
                // The old plane finishes this request before it lets its address go.
                let answer = try await HTTPTestClient.request(method: "POST", port: first, path: "/reload")
                #expect(answer.status == 200, "\(answer.body)")
                #expect(await child.waitForOutput(containing: "admin plane moved", timeout: .seconds(5)))
                #expect((try? await HTTPTestClient.get(port: second, path: "/status").status) == 200)
                #expect((try? await HTTPTestClient.get(port: first, path: "/status")) == nil)
            }
        }
    }

    @Test("relay_threads 0: /status reports no relay thread and no slice")
    func noRelayThreadsReported() async throws {
        try await withMosquitto { broker in
            var config = TestConfig.mqttFront(ports: [broker.port], admin: true)
            config.relayThreads = 0
            try await withFront(config) { front in
                let adminPort = try #require(front.runner.adminPort)
                let json = try JSONValue.parse(try await HTTPTestClient.get(port: adminPort, path: "/status").body)
                #expect(json["relay"]?["threads"]?.number == 0)
                #expect(json["relay"]?["slice"] == .null)
                #expect(json["relay"]?["sessions"]?.number == 0)
                let metrics = try await HTTPTestClient.get(port: adminPort, path: "/metrics").body
                #expect(PrometheusText.value(of: "brokerfront_relay_threads", in: metrics) == 0)
                let page = try await HTTPTestClient.get(port: adminPort, path: "/").body
                #expect(!page.contains(#"<div class="l">on "#), "no relay tile")
            }
        }
    }

    @Test(
        "POST /backends/{b}/servers/{s}/state: drain and maint keep new sessions off a server, ready brings it back; unknown names 404, bad bodies 400, no token 401"
    )
    func serverStateChanges() async throws {
        try await withMosquittos(2) { brokers in
            var config = TestConfig.mqttFront(ports: brokers.map(\.port), admin: true)
            config.admin?.token = "state-token"
            try await withFront(config) { front in
                let adminPort = try #require(front.runner.adminPort)
                func post(_ path: String, _ body: String?, token: String? = "state-token") async throws
                    -> HTTPTestResponse
                {
                    let headers = token.map { ["Authorization": "Bearer \($0)"] } ?? [:]
                    return try await HTTPTestClient.request(
                        method: "POST", port: adminPort, path: path, body: body, headers: headers)
                }
                let b1 = "/backends/brokers/servers/b1/state"
                #expect(try await post(b1, #"{"state":"drain"}"#, token: nil).status == 401)
                let unknownBackend = try await post("/backends/nope/servers/b1/state", #"{"state":"drain"}"#)
                #expect(unknownBackend.status == 404)
                #expect(unknownBackend.body.contains("no backend named `nope`"), "\(unknownBackend.body)")
                #expect(try await post("/backends/brokers/servers/b9/state", #"{"state":"drain"}"#).status == 404)
                let notJSON = try await post(b1, "drain")
                #expect(notJSON.status == 400)
                #expect(notJSON.body.contains("error"), "\(notJSON.body)")
                let unknownState = try await post(b1, #"{"state":"sleep"}"#)
                #expect(unknownState.status == 400)
                #expect(unknownState.body.contains("`sleep` is not one of drain, maint, ready"), "\(unknownState.body)")
                let huge = try await post(b1, #"{"state":""# + String(repeating: "d", count: 20_000) + #""}"#)
                #expect(huge.status == 413, "\(huge.status) \(huge.body)")
                func state(_ server: String) async throws -> String? {
                    let json = try JSONValue.parse(try await HTTPTestClient.get(port: adminPort, path: "/status").body)
                    return json["backends"]?[0]?["servers"]?.array?.first { $0["name"]?.string == server }?["state"]?
                        .string
                }
                #expect(try await state("b1") == "up")

                // A session already on b1 stays through drain; new ones all go to b2.
                let ids = (0..<16).map { "state-\($0)" }
                var onB1: [MQTTTestClient] = []
                for id in ids {
                    let (client, code) = try await MQTTTestClient.connect(port: try front.port(), clientID: id)
                    #expect(code == 0)
                    let listed = await front.runner.proxy.sessions(
                        matching: SessionFilter(clientID: id), offset: 0, limit: 1)
                    if listed.page.first?.server == "b1" { onB1.append(client) } else { await client.disconnect() }
                }
                #expect(!onB1.isEmpty, "none of 16 ids hashed to b1")
                let drained = try await post(b1, #"{"state":"drain"}"#)
                #expect(drained.status == 200)
                #expect(try JSONValue.parse(drained.body)["state"]?.string == "drain", "\(drained.body)")
                #expect(try await state("b1") == "drain")
                for client in onB1 {
                    #expect(await client.connection.closedAt() == nil, "drain closed a session")
                    await client.disconnect()
                }
                for id in ids {
                    let (client, code) = try await MQTTTestClient.connect(port: try front.port(), clientID: id)
                    #expect(code == 0)
                    await client.disconnect()
                    let line = await front.waitForSessionClosed(matching: ["client_id": id, "server": "b2"])
                    #expect(line != nil, "\(id) did not land on b2 while b1 drains")
                }
                #expect(try await post(b1, #"{"state":"maint"}"#).status == 200)
                #expect(try await state("b1") == "maint")
                #expect(try await post(b1, #"{"state":"ready"}"#).status == 200)
                #expect(try await state("b1") == "up")
                #expect(await front.waitForActive(0))
            }
        }
    }

    @Test("admin.token: POSTs need it, GETs do not; a reload rotates it at once; dropping admin: stops the plane")
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
                // Dropping admin: closes the plane rather than opening it.
                #expect(await Poll.until(timeout: .seconds(5)) { front.runner.adminPort == nil })
                #expect((try? await failback(nil)) == nil, "nothing answers on the old port")
            }
        }
    }
}
