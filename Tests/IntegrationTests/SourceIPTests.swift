import FrontConfig
import FrontTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `source_ips`: outbound connections are spread over the configured local addresses, on each shell
/// (the relay threads bind a plain socket, SwiftNIO its channel's).
@Suite("Outbound source IPs")
struct SourceIPTests {
    @Test("4 sessions reach the broker from both 127.0.2.1 and 127.0.2.2", arguments: Shell.allCases)
    func spreadOverSourceIPs(shell: Shell) async throws {
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(
                ports: [broker.port], backend: { $0.sourceIPs = ["127.0.2.1", "127.0.2.2"] })
            try await withFront(config.on(shell)) { front in
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

    /// A listening socket on `ip:port` (so a bind of that address by anyone else fails with EADDRINUSE).
    static func occupy(ip: String, port: Int) throws -> Int32 {
        guard let descriptor = BoundSocket.tcp(ip: ip, port: port) else {
            throw HarnessError("cannot bind \(ip):\(port): errno \(errno)")
        }
        guard listen(descriptor, 1) == 0 else {
            close(descriptor)
            throw HarnessError("cannot listen on \(ip):\(port): errno \(errno)")
        }
        return descriptor
    }

    @Test("source_ports sharing ports with ip_local_port_range: the front warns at start, naming the backend")
    func sourcePortsInsideTheEphemeralRangeWarn() async throws {
        let text = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        try #require(bounds.count == 2)
        let config = TestConfig.mqttFront(
            ports: [FreePort.refusing()],
            backend: {
                $0.sourceIPs = ["127.0.8.3"]
                $0.sourcePorts = SourcePortRange(lower: bounds[0], upper: bounds[0] + 99)
            })
        try await withFront(config) { front in
            let warning = front.logs.all.first { $0.message.hasPrefix("source_ports overlaps ip_local_port_range") }
            #expect(warning?.level == .warning, "\(front.logs.controlLines)")
            #expect(warning?.metadata["backend"] == "brokers")
            #expect(warning?.metadata["shared"] == "\(bounds[0])-\(bounds[0] + 99)")
        }
    }

    @Test(
        "source_ports: the front binds upstream connections to ports of the range itself, skips ports taken by other sockets, refuses cleanly when the range is full and reuses ports that come free",
        arguments: Shell.allCases)
    func sourcePortsPickedByTheFront(shell: Shell) async throws {
        // One address per shell: both cases use the same port range at once.
        let ip = shell == .relayThreads ? "127.0.8.1" : "127.0.8.21"
        let range = 20_100...20_109
        // Three ports of the range are held by someone else.
        let occupied = try (20_100...20_102).map { try Self.occupy(ip: ip, port: $0) }
        defer { for descriptor in occupied { close(descriptor) } }
        try await withMosquitto { broker in
            let config = TestConfig.mqttFront(
                ports: [broker.port], admin: true,
                backend: {
                    $0.sourceIPs = [ip]
                    $0.sourcePorts = SourcePortRange(lower: range.lowerBound, upper: range.upperBound)
                    $0.retries = 0
                })
            try await withFront(config.on(shell)) { front in
                let port = try front.port()
                var clients: [MQTTTestClient] = []
                for index in 1...7 {
                    let (client, code) = try await MQTTTestClient.connect(port: port, clientID: "sp-\(index)")
                    #expect(code == 0, "client \(index)")
                    clients.append(client)
                }
                let seen = broker.clientsConnected().filter { $0.clientID.hasPrefix("sp-") }.map(\.address)
                let ports = Set(seen.compactMap { Int($0.split(separator: ":").last ?? "") })
                #expect(seen.allSatisfy { $0.hasPrefix(ip + ":") }, "\(seen)")
                #expect(ports == Set(20_103...20_109), "broker saw \(seen)")
                #expect(front.metric("brokerfront_source_ports_in_use", ["source_ip": ip]) == 7)

                // The 3 ports left are taken outside the pool: each collided once and is kept out of use
                // (quarantine), so the pool is full: refused, server kept up.
                let (eighth, code) = try await MQTTTestClient.connect(port: port, clientID: "sp-8")
                #expect(code == 3, "3.1.1 server unavailable")
                await eighth.close()
                let collisions = front.metric("brokerfront_source_port_collisions_total") ?? 0
                #expect(collisions == 3, "\(collisions) collisions")
                #expect(!front.logs.all.contains { $0.message.contains("server down") }, "the server was marked down")

                // A port comes free: the next client gets it.
                let freed = clients.removeFirst()
                await freed.disconnect()
                _ = await front.waitForActive(6)
                let (ninth, again) = try await MQTTTestClient.connect(port: port, clientID: "sp-9")
                #expect(again == 0)
                clients.append(ninth)
                for client in clients { await client.disconnect() }
                _ = await front.waitForActive(0)
                let drained = await Poll.until(timeout: .seconds(5)) {
                    front.metric("brokerfront_source_ports_in_use", ["source_ip": ip]) == 0
                }
                #expect(drained, "every port given back")
            }
        }
    }
}
