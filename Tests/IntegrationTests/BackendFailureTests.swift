import FrontConfig
import FrontTesting
import MQTTWire
import Testing

/// Brokers that are gone: the client gets "Server unavailable"; with one alive, retries hide the dead one.
@Suite("Backend failures")
struct BackendFailureTests {
    @Test("all servers down: CONNACK Server unavailable for 3.1.1 and 5.0, then close", arguments: Shell.allCases)
    func noServer(shell: Shell) async throws {
        // One broker that ran and was stopped, one port nothing ever listened on.
        let stopped = try await MosquittoProcess.start()
        await stopped.stop()
        let config = TestConfig.mqttFront(ports: [stopped.port, FreePort.refusing()])
        try await withFront(config.on(shell)) { front in
            let port = try front.port()
            let cases: [(MQTTProtocolVersion, [UInt8])] = [
                (.v3_1_1, [0x20, 0x02, 0x00, 0x03]),
                (.v5, [0x20, 0x03, 0x00, 0x88, 0x00]),
            ]
            for (version, expected) in cases {
                let client = try await TestClient.connect(port: port)
                try await client.send(MQTTConnect(version: version, clientID: "nobody-\(version)").encode())
                let answer = try await client.readUntilClose(timeout: .seconds(5))
                #expect(answer == expected, "\(version): \(TestClientError.hex(answer))")
                await client.close()
            }
            #expect(
                await Poll.until(timeout: .seconds(2)) {
                    front.metric("brokerfront_connections_rejected_total", ["listener": "mqtt", "reason": "no_server"])
                        == 2
                })
            for server in ["b1", "b2"] {
                #expect(front.metric("brokerfront_server_up", ["backend": "brokers", "server": server]) == 0)
            }
            #expect(await front.waitForActive(0))
        }
    }

    @Test(
        "an mqtt check with credentials the broker refuses keeps the server down (CONNACK 5 in /status, counted as fail); the right ones bring it up"
    )
    func checkRefusedByBroker() async throws {
        let directory = try TemporaryDirectory(prefix: "check-auth")
        defer { directory.remove() }
        let passwords = "\(directory.path)/passwords"
        let made = try await CommandLineTool.run(
            "mosquitto_passwd", ["-b", "-c", passwords, "checker", "right"], timeout: .seconds(10))
        #expect(made.status == 0, "\(made.stderr)")
        let broker = try await MosquittoProcess.start(extraConfig: [
            "allow_anonymous false", "password_file \(passwords)",
        ])
        try await withStopping(broker, stop: { await $0.stop() }) { broker in
            func check(_ password: String) -> HealthCheckConfig {
                var check = HealthCheckConfig(
                    type: .mqtt, interval: .milliseconds(200), timeout: .seconds(2), rise: 1, fall: 1)
                check.username = "checker"
                check.password = password
                return check
            }
            let config = TestConfig.front(
                listeners: [TestConfig.mqttListener()],
                backends: [
                    TestConfig.backend(ports: [broker.port]) { $0.healthCheck = check("wrong") },
                    TestConfig.backend(name: "right", ports: [broker.port]) { $0.healthCheck = check("right") },
                ])
            try await withFront(config) { front in
                func failed() -> Double {
                    front.metric("brokerfront_health_checks_total", ["backend": "brokers", "result": "fail"]) ?? 0
                }
                #expect(await Poll.until(timeout: .seconds(10)) { failed() >= 2 }, "\(front.metricsText)")
                #expect(
                    front.metric("brokerfront_health_checks_total", ["backend": "brokers", "result": "ok"]) ?? 0 == 0)
                let refused = try #require(front.runner.proxy.routing.snapshot.backend(named: "brokers")?.servers.first)
                #expect(refused.displayState == "down")
                let message = refused.healthState.lastCheck?.message ?? ""
                #expect(message.hasPrefix("CONNACK 5") || message.hasPrefix("CONNACK 4"), "\(message)")
                #expect(front.metric("brokerfront_server_up", ["backend": "brokers", "server": "b1"]) == 0)
                #expect(
                    await Poll.until(timeout: .seconds(10)) {
                        front.metric("brokerfront_server_up", ["backend": "right", "server": "b1"]) == 1
                    }, "\(front.metricsText)")
                // A client of the refused backend gets Server unavailable.
                let (client, code) = try await MQTTTestClient.connect(
                    port: try front.port(), clientID: "behind-refused")
                #expect(code == 3)
                await client.close()
            }
        }
    }

    @Test(
        "one of two servers is a closed port: every connect succeeds, the dead one shows down",
        arguments: Shell.allCases)
    func retriesHideADeadServer(shell: Shell) async throws {
        try await withMosquitto { broker in
            let dead = FreePort.refusing()
            let config = TestConfig.mqttFront(
                ports: [broker.port, dead], balance: .clientID, admin: true, backend: { $0.retries = 2 })
            try await withFront(config.on(shell)) { front in
                let port = try front.port()
                for index in 1...20 {
                    let (client, code) = try await MQTTTestClient.connect(port: port, clientID: "retry-\(index)")
                    #expect(code == 0, "retry-\(index)")
                    await client.disconnect()
                }
                #expect(broker.clientsConnected().count == 20)
                let backend = front.runner.proxy.routing.snapshot.backend(named: "brokers")
                #expect(backend?.server(named: "b1")?.displayState == "up")
                #expect(backend?.server(named: "b2")?.displayState == "down")
                #expect(front.metric("brokerfront_server_up", ["backend": "brokers", "server": "b2"]) == 0)
                #expect(front.metric("brokerfront_server_up", ["backend": "brokers", "server": "b1"]) == 1)

                let adminPort = try #require(front.runner.adminPort)
                let status = try await HTTPTestClient.get(port: adminPort, path: "/status")
                #expect(status.status == 200)
                let json = try JSONValue.parse(status.body)
                let servers = json["backends"]?[0]?["servers"]?.array ?? []
                let states = Dictionary(
                    uniqueKeysWithValues: servers.compactMap { server -> (String, String)? in
                        guard let name = server["name"]?.string, let state = server["state"]?.string else { return nil }
                        return (name, state)
                    })
                #expect(states == ["b1": "up", "b2": "down"], "\(status.body)")
            }
        }
    }
}
