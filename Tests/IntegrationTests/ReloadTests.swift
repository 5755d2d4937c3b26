import Foundation
import FrontConfig
import FrontControl
import FrontTesting
import Logging
import MQTTWire
import Prometheus
import Testing

/// Hot reload: sessions survive, listeners and servers come and go, bad files change nothing.
@Suite("Hot reload")
struct ReloadTests {
    @Test(
        "a changed relay_threads, relay_slice, relay_spread or relay_assist is kept for the next start, and the reload says so"
    )
    func relaySettingsAtNextStart() async throws {
        try await withMosquitto { broker in
            let first = TestConfig.mqttFront(ports: [broker.port])
            try await withFront(first) { front in
                let notice =
                    "relay_threads, relay_slice, relay_spread or relay_assist changed: they apply at the next start"
                var same = TestConfig.mqttFront(ports: [broker.port])
                same.keepBinds(of: first)
                guard case .applied = await front.runner.reloader.reload(with: same) else {
                    Issue.record("reload was not applied")
                    return
                }
                #expect(!front.logs.all.contains { $0.message == notice })
                // Each reload changes one of the keys from the running value: one notice each.
                let changes: [(key: String, change: (inout FrontConfiguration) -> Void)] = [
                    ("relay_slice", { $0.relaySlice = .milliseconds(1) }),
                    ("relay_threads", { $0.relayThreads = 3 }),
                    ("relay_spread", { $0.relaySpread = .seconds(1) }),
                    ("relay_assist", { $0.relayAssist = false }),
                ]
                for (count, (key, change)) in changes.enumerated() {
                    var changed = same
                    change(&changed)
                    guard case .applied = await front.runner.reloader.reload(with: changed) else {
                        Issue.record("the reload changing \(key) was not applied")
                        return
                    }
                    #expect(
                        front.logs.all.filter { $0.message == notice && $0.level == .notice }.count == count + 1,
                        "\(key)")
                }
                #expect(front.runner.proxy.relayedSessions == 0)
            }
        }
    }

    @Test("a session opened before a reload relays after it; added listener and server serve; removed server drains")
    func reloadKeepsSessions() async throws {
        try await withMosquittos(2) { brokers in
            let first = TestConfig.mqttFront(ports: [brokers[0].port], admin: true)
            try await withFront(first) { front in
                let port = try front.port()
                let (kept, code) = try await MQTTTestClient.connect(port: port, clientID: "kept")
                #expect(code == 0)

                // Add a listener and a second server; drain_timeout for removed servers is short.
                var second = TestConfig.mqttFront(ports: [brokers[0].port, brokers[1].port], admin: true)
                second.keepBinds(of: first)
                second.listeners.append(TestConfig.mqttListener(name: "mqtt2"))
                second.drainTimeout = .milliseconds(300)
                guard case .applied(let summary) = await front.runner.reloader.reload(with: second) else {
                    Issue.record("reload was not applied")
                    return
                }
                #expect(summary.listenersAdded == ["mqtt2"])
                #expect(front.metric("brokerfront_server_up", ["backend": "brokers", "server": "b1"]) != nil)
                #expect(front.runner.proxy.boundListeners.map(\.name) == ["mqtt", "mqtt2"])
                #expect(try front.port() == port, "the kept listener keeps its socket")

                try await kept.ping()
                #expect(try await kept.readPacket(timeout: .seconds(2)).type == 13, "PINGRESP after the reload")
                let (viaNew, codeNew) = try await MQTTTestClient.connect(port: try front.port("mqtt2"), clientID: "new")
                #expect(codeNew == 0)
                await viaNew.disconnect()

                // Remove the first server: its session is closed after drain_timeout, reason server_removed.
                var third = TestConfig.mqttFront(ports: [brokers[1].port], admin: true)
                third.keepBinds(of: first)
                third.backends[0].servers[0].name = "b2"
                third.drainTimeout = .milliseconds(300)
                guard case .applied(let removal) = await front.runner.reloader.reload(with: third) else {
                    Issue.record("second reload was not applied")
                    return
                }
                #expect(removal.serversRemoved == ["brokers/b1"])
                #expect(removal.listenersRemoved == ["mqtt2"])
                // The removed server's series leave /metrics; the kept one's stay.
                #expect(front.metric("brokerfront_server_up", ["backend": "brokers", "server": "b1"]) == nil)
                #expect(front.metric("brokerfront_server_up", ["backend": "brokers", "server": "b2"]) != nil)
                #expect(
                    front.metric("brokerfront_health_checks_total", ["server": "b1", "result": "ok"]) == nil,
                    "\(front.metricsText)")
                #expect(await kept.connection.waitForClose(timeout: .seconds(3)))
                #expect(
                    await front.waitForSessionClosed(matching: ["client_id": "kept", "reason": "server_removed"]) != nil
                )
                let (moved, codeMoved) = try await MQTTTestClient.connect(port: port, clientID: "kept")
                #expect(codeMoved == 0)
                await moved.disconnect()
                #expect(brokers[1].clientsConnected().contains { $0.clientID == "kept" })
                #expect(front.metric("brokerfront_reloads_total", ["result": "ok"]) == 2)
            }
        }
    }

    @Test(
        "a reload that cannot bind a new listener binds again the listener it had closed to rebind, with its old settings"
    )
    func failedRebindRestores() async throws {
        try await withMosquitto { broker in
            // On an address of its own: while the reload has the port released, an outgoing
            // connection of another test (from 127.0.0.1) could take it as its source port.
            var first = TestConfig.mqttFront(ports: [broker.port])
            first.listeners[0].bind = Endpoint(host: "127.0.0.77", port: FreePort.nextOnAllAddresses())
            try await withFront(first) { front in
                let port = try front.port()
                // Someone else listens where the added listener wants to bind.
                let taken = try SilentListener(backlog: 8)
                defer { taken.close() }
                var second = first
                second.listeners[0].reusePort = true  // a new socket option: closed, then bound again
                var extra = TestConfig.mqttListener(name: "extra")
                extra.bind = Endpoint(host: "127.0.0.1", port: taken.port)
                second.listeners.append(extra)
                guard case .failed(let reason) = await front.runner.reloader.reload(with: second) else {
                    Issue.record("a reload whose listener cannot bind was applied")
                    return
                }
                // What the front said, should the listener not be back (CI has seen it refuse).
                let said = "reason: \(reason)\n\(front.logs.controlLines)"
                #expect(!reason.isEmpty)
                #expect(front.metric("brokerfront_reloads_total", ["result": "error"]) == 1)
                #expect(front.runner.proxy.configuration.listeners.map(\.name) == ["mqtt"])
                #expect(front.runner.proxy.configuration.listeners[0].reusePort == false)
                #expect(front.runner.proxy.boundListeners.map(\.name) == ["mqtt"], "\(said)")
                do {
                    let (client, code) = try await MQTTTestClient.connect(
                        host: "127.0.0.77", port: port, clientID: "after-failed-rebind")
                    #expect(code == 0, "\(said)")
                    await client.disconnect()
                } catch {
                    Issue.record("the restored listener refused: \(error)\n\(said)")
                }
                // The next good reload still applies.
                guard case .applied = await front.runner.reloader.reload(with: first) else {
                    Issue.record("the reload back to the running file was not applied")
                    return
                }
            }
        }
    }

    @Test("an invalid file leaves the running configuration untouched and counts result=error")
    func invalidReload() async throws {
        try await withMosquitto { broker in
            try await withFront(TestConfig.mqttFront(ports: [broker.port])) { front in
                let directory = try TemporaryDirectory(prefix: "reload-bad")
                defer { directory.remove() }
                let file = try directory.write("listeners:\n  - name: mqtt\n    bakend: nowhere\n", to: "bad.yaml")
                let reloader = ConfigReloader(
                    path: file, proxy: front.runner.proxy, logger: Logger(label: "test"),
                    factory: PrometheusMetricsFactory(registry: front.runner.registry))
                guard case .invalid(let problems) = await reloader.reload() else {
                    Issue.record("an invalid file was applied")
                    return
                }
                #expect(problems.contains { $0.hasPrefix("\(file):3:5: listeners[0].bakend:") }, "\(problems)")
                #expect(front.metric("brokerfront_reloads_total", ["result": "error"]) == 1)
                #expect(front.runner.proxy.configuration.backends[0].servers[0].address.port == broker.port)
                let (client, code) = try await MQTTTestClient.connect(port: try front.port(), clientID: "still")
                #expect(code == 0)
                await client.disconnect()
            }
        }
    }

    @Test("POST /reload without a file answers 422 with the reason; sessions API lists and closes")
    func adminReloadAndSessions() async throws {
        try await withMosquitto { broker in
            try await withFront(TestConfig.mqttFront(ports: [broker.port], admin: true)) { front in
                let admin = try #require(front.runner.adminPort)
                let reload = try await HTTPTestClient.request(method: "POST", port: admin, path: "/reload")
                #expect(reload.status == 422, "\(reload.body)")
                #expect(reload.body.contains("\"errors\""))

                let (one, _) = try await MQTTTestClient.connect(port: try front.port(), clientID: "listed-1")
                let (two, _) = try await MQTTTestClient.connect(port: try front.port(), clientID: "listed-2")
                let all = try await HTTPTestClient.get(port: admin, path: "/sessions?limit=1")
                let page = try JSONValue.parse(all.body)
                #expect(page["total"]?.number == 2, "\(all.body)")
                #expect(page["sessions"]?.array?.count == 1)
                #expect(page["next_offset"]?.number == 1)
                let filtered = try await HTTPTestClient.get(port: admin, path: "/sessions?client_id=listed-2")
                let only = try JSONValue.parse(filtered.body)
                #expect(only["sessions"]?[0]?["client_id"]?.string == "listed-2", "\(filtered.body)")
                #expect(only["sessions"]?[0]?["server"]?.string == "b1")
                // Int.max once overflowed and ended the front; a page that deep is refused, and the front serves on.
                let far = try await HTTPTestClient.get(port: admin, path: "/sessions?offset=9223372036854775807")
                #expect(far.status == 400)
                #expect(try JSONValue.parse(far.body)["error"]?.string?.contains("offset + limit") == true)
                let near = try await HTTPTestClient.get(port: admin, path: "/sessions?offset=5")
                let nearPage = try JSONValue.parse(near.body)
                #expect(nearPage["total"]?.number == 2 && nearPage["sessions"]?.array?.isEmpty == true, "\(near.body)")
                let odd = try await HTTPTestClient.get(port: admin, path: "/sessions?offset=-3&limit=99999")
                #expect(try JSONValue.parse(odd.body)["sessions"]?.array?.count == 2, "\(odd.body)")

                let deleted = try await HTTPTestClient.request(
                    method: "DELETE", port: admin, path: "/sessions/listed-2")
                #expect(deleted.status == 200, "\(deleted.body)")
                #expect(await two.connection.waitForClose(timeout: .seconds(2)))
                #expect(
                    await front.waitForSessionClosed(matching: ["client_id": "listed-2", "reason": "admin"]) != nil)
                let missing = try await HTTPTestClient.request(method: "DELETE", port: admin, path: "/sessions/nobody")
                #expect(missing.status == 404)
                let unknown = try await HTTPTestClient.get(port: admin, path: "/nope")
                #expect(unknown.status == 404 && unknown.body.contains("\"error\""), "\(unknown.body)")
                await one.disconnect()
            }
        }
    }

    @Test("SIGHUP on the executable: a good file is applied, a bad one is refused and the front keeps running")
    func sighup() async throws {
        try await withMosquittos(2) { brokers in
            let directory = try TemporaryDirectory(prefix: "sighup")
            defer { directory.remove() }
            let listenPort = FreePort.next()
            let file = try directory.write(
                ExecutableTests.goodConfig(brokerPort: brokers[0].port, port: listenPort), to: "front.yaml")
            try await ExecutableTests.withRunningFront(config: file, in: directory) { child, port in
                let (kept, _) = try await MQTTTestClient.connect(port: port, clientID: "hup-kept")

                _ = try directory.write(
                    ExecutableTests.goodConfig(brokerPort: brokers[1].port, port: listenPort), to: "front.yaml")
                child.send(signal: SIGHUP)
                #expect(await child.waitForOutput(containing: "configuration reloaded", timeout: .seconds(5)))
                try await kept.ping()
                #expect(try await kept.readPacket(timeout: .seconds(2)).type == 13)

                _ = try directory.write("listeners: [oops\n", to: "front.yaml")
                child.send(signal: SIGHUP)
                #expect(await child.waitForOutput(containing: "reload refused", timeout: .seconds(5)))
                #expect(child.isRunning)
                let (after, code) = try await MQTTTestClient.connect(port: port, clientID: "hup-after")
                #expect(code == 0)
                #expect(brokers[1].clientsConnected().contains { $0.clientID == "hup-after" })
                await after.disconnect()
                await kept.disconnect()
            }
        }
    }

    @Test("SIGHUP applies a new log level at once: no session lines at notice, then they appear at info")
    func sighupLogLevel() async throws {
        try await withMosquitto { broker in
            let directory = try TemporaryDirectory(prefix: "sighup-log")
            defer { directory.remove() }
            let listenPort = FreePort.next()
            func config(_ level: String) -> String {
                ExecutableTests.goodConfig(brokerPort: broker.port, port: listenPort, level: level)
            }
            let file = try directory.write(config("notice"), to: "front.yaml")
            try await ExecutableTests.withRunningFront(config: file, in: directory) { child, port in
                // The quiet session ends before the reload: the broker closes on DISCONNECT, and the
                // front books the session (its log line) right as it closes the client, in the same
                // call on its event loop, well before the file is rewritten and SIGHUP handled.
                let (quiet, _) = try await MQTTTestClient.connect(port: port, clientID: "log-quiet")
                try await quiet.connection.send(MQTTPacket.disconnect)
                #expect(await quiet.connection.waitForClose(timeout: .seconds(5)))
                await quiet.close()

                _ = try directory.write(config("info"), to: "front.yaml")
                child.send(signal: SIGHUP)
                #expect(await child.waitForOutput(containing: "log settings applied", timeout: .seconds(5)))
                let (loud, _) = try await MQTTTestClient.connect(port: port, clientID: "log-loud")
                await loud.disconnect()
                #expect(await child.waitForOutput(containing: "client_id=log-loud", timeout: .seconds(5)))
                #expect(!child.stderrText().contains("client_id=log-quiet"), "\(child.stderrText())")
            }
        }
    }
}

extension FrontConfiguration {
    /// The edited file keeps the running listeners' and admin plane's addresses (each `TestConfig`
    /// build hands out fresh ports).
    fileprivate mutating func keepBinds(of running: FrontConfiguration) {
        for index in listeners.indices {
            if let kept = running.listeners.first(where: { $0.name == listeners[index].name }) {
                listeners[index].bind = kept.bind
            }
        }
        admin = running.admin
    }
}
