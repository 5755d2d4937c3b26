import Foundation
import FrontConfig
import FrontTesting
import MQTTWire
import Testing

/// Sessions moved off a broker from a TLS listener (always served by SwiftNIO): the DISCONNECTs
/// pass through TLS, and the broker publishes no Will.
@Suite("Moving sessions over TLS")
struct MoveTLSTests {
    @Test(
        "evacuation from a TLS listener: an MQTT 5 client gets DISCONNECT 0x9C through TLS, a 3.1.1 one the close; the broker publishes no Will for either"
    )
    func evacuateOverTLS() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withMosquittos(2) { brokers in
            let config = MoveTests.config(brokers.map(\.port)) {
                $0.tls = TLSConfig(certificate: certificates.serverCertificate, privateKey: certificates.serverKey)
            }
            try await withFront(config) { front in
                let port = try front.port()
                let watcher = try await WillWatcher.start(brokers)
                try await MoveSupport.setState(front, "b2", "drain")
                let script = try certificates.directory.write(MoveTests.pahoScript, to: "paho_tls_client.py")
                var clients: [String: ChildProcess] = [:]
                for (id, version) in [("tls-5", "5"), ("tls-311", "311")] {
                    let client = try ChildProcess.launch(
                        "/usr/bin/python3", [script, "\(port)", id, version, certificates.caCertificate],
                        outputDirectory: certificates.directory.path, name: id)
                    clients[id] = client
                    #expect(
                        await Poll.until(timeout: .seconds(10)) { client.stdoutText().contains("CONNACK 0") },
                        "\(client.stderrText())")
                }
                let v5 = try #require(clients["tls-5"])
                let v311 = try #require(clients["tls-311"])
                #expect(front.runner.proxy.relayedSessions == 0, "TLS sessions are SwiftNIO's")
                try await MoveSupport.setState(front, "b2", "ready")

                let started = ContinuousClock.now
                let answer = try await MoveSupport.post(front, "/backends/brokers/servers/b1/evacuate")
                #expect(answer.status == 202, "\(answer.body)")
                for client in [v5, v311] {
                    #expect(await Poll.until(timeout: .seconds(10)) { client.stdoutText().contains("DISCONNECT") })
                }
                #expect(v5.stdoutText().contains("DISCONNECT 156 broker-2.example:1883"), "\(v5.stdoutText())")
                #expect(!v311.stdoutText().contains("DISCONNECT 0 "), "\(v311.stdoutText())")
                for id in clients.keys {
                    let line = await front.waitForSessionClosed(matching: ["client_id": id])
                    #expect(line?["reason"] == "moved" && line?["cause"] == "evacuate", "\(String(describing: line))")
                }
                // Both peers closed after their DISCONNECTs: the farewell did not run out its 2 s.
                let ended = ContinuousClock.now - started
                #expect(ended < .milliseconds(1800), "\(ended)")
                #expect(
                    front.metric("brokerfront_sessions_moved_total", ["server": "b1", "reason": "evacuate"]) == 2)
                // Mosquitto publishes a Will at once on an abnormal end; give it a moment to show.
                #expect(await Poll.until(timeout: .seconds(1)) { !watcher.seen.isEmpty } == false, "\(watcher.seen)")
                for client in clients.values { _ = await client.stop() }
                await watcher.stop()
            }
        }
    }
}
