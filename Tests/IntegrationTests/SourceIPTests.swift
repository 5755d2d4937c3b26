import FrontTesting
import Testing

/// `source_ips`: outbound connections are spread over the configured local addresses.
@Suite("Outbound source IPs")
struct SourceIPTests {
    @Test("4 sessions reach the broker from both 127.0.2.1 and 127.0.2.2")
    func spreadOverSourceIPs() async throws {
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(
                ports: [broker.port], backend: { $0.sourceIPs = ["127.0.2.1", "127.0.2.2"] })
            try await withFront(config) { front in
                let port = try front.port()
                var clients: [MQTTTestClient] = []
                for index in 1...4 {
                    let (client, code) = try await MQTTTestClient.connect(port: port, clientID: "src-\(index)")
                    #expect(code == 0)
                    clients.append(client)
                }
                let fromLog = Set(broker.clientsConnected().map { $0.address.split(separator: ":")[0] })
                #expect(fromLog == ["127.0.2.1", "127.0.2.2"], "broker saw \(fromLog)")

                // The kernel's view: established connections to the broker port, by local address.
                let sockets = try await CommandLineTool.run(
                    "ss", ["-tnH", "state", "established", "dst", "127.0.0.1:\(broker.port)"], timeout: .seconds(5))
                let sources = Set(
                    sockets.stdout.split(separator: "\n").compactMap { line -> String? in
                        let columns = line.split(separator: " ", omittingEmptySubsequences: true)
                        guard columns.count >= 4 else { return nil }
                        return columns[2].split(separator: ":").first.map(String.init)
                    })
                #expect(sources == ["127.0.2.1", "127.0.2.2"], "ss shows \(sockets.stdout)")
                for client in clients { await client.disconnect() }
                let logged = Set(front.logs.sessionsClosed.compactMap { $0["source"] })
                _ = await front.waitForActive(0)
                #expect(logged.isSubset(of: ["127.0.2.1", "127.0.2.2"]))
            }
        }
    }
}
