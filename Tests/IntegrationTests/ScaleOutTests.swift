import Foundation
import FrontTesting
import Testing

/// Several fronts, no shared state: two `brokerfront` processes share one port with `reuse_port`
/// and agree on where each client id lands, because the hash is consistent.
@Suite("Scaling out")
struct ScaleOutTests {
    static func config(port: Int, brokers: [Int]) -> String {
        var text = """
            log:
              level: info
            drain_timeout: 1s
            max_connections: 1000
            listeners:
              - name: mqtt
                bind: 127.0.0.1:\(port)
                backend: brokers
                reuse_port: true
            backends:
              - name: brokers
                balance: client-id
                servers:

            """
        for (index, broker) in brokers.enumerated() {
            text += "      - { name: b\(index + 1), address: 127.0.0.1:\(broker) }\n"
        }
        return text
    }

    @Test("two front processes on one port (reuse_port) send each client id to the same broker")
    func twoFrontsAgree() async throws {
        try await withMosquittos(3) { brokers in
            let directory = try TemporaryDirectory(prefix: "scale-out")
            defer { directory.remove() }
            let port = FreePort.next()
            let file = try directory.write(Self.config(port: port, brokers: brokers.map(\.port)), to: "front.yaml")
            let executable = try ExecutableTests.executable()
            var fronts: [ChildProcess] = []
            do {
                for index in 0..<2 {
                    let front = try ChildProcess.launch(
                        executable, ["run", "--config", file], outputDirectory: directory.path, name: "front\(index)")
                    fronts.append(front)
                    #expect(await front.waitForOutput(containing: "listening", timeout: .seconds(10)))
                }
                // Connect each id several times: the kernel spreads connections over both processes.
                let ids = (0..<12).map { "fleet-\($0)" }
                for _ in 0..<4 {
                    for id in ids {
                        let (client, code) = try await MQTTTestClient.connect(port: port, clientID: id)
                        #expect(code == 0)
                        await client.disconnect()
                    }
                }
                _ = await Poll.until(timeout: .seconds(3)) {
                    brokers.map { $0.clientsConnected().filter { $0.clientID.hasPrefix("fleet-") }.count }
                        .reduce(0, +) >= ids.count * 4
                }
                for id in ids {
                    let holders = brokers.indices.filter { index in
                        brokers[index].clientsConnected().contains { $0.clientID == id }
                    }
                    #expect(holders.count == 1, "\(id) landed on brokers \(holders)")
                }
                // Both processes served sessions.
                for front in fronts {
                    #expect(front.stderrText().contains("session closed"), "a front served nothing")
                }
            } catch {
                for front in fronts { _ = await front.stop() }
                throw error
            }
            for front in fronts {
                front.send(signal: SIGTERM)
                #expect(await front.waitForExit(timeout: .seconds(10)) == 0)
            }
        }
    }
}
