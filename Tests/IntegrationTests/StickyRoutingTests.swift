import FrontTesting
import Testing

/// `balance: client-id`: a client id lands on the same broker every time, and ids spread.
@Suite("Sticky landing by client id")
struct StickyRoutingTests {
    @Test("20 client ids, connected twice each, land on the same broker both times")
    func sameBrokerEachTime() async throws {
        try await withMosquittos(3) { brokers in
            let config = TestConfig.mqttFront(ports: brokers.map(\.port), balance: .clientID)
            try await withFront(config) { front in
                let port = try front.port()
                let ids = (1...20).map { "sticky-\($0)" }
                for round in 1...2 {
                    for id in ids {
                        let (client, code) = try await MQTTTestClient.connect(port: port, clientID: id)
                        #expect(code == 0, "round \(round), \(id)")
                        await client.disconnect()
                    }
                }
                // Each broker logs the connection before it sends the CONNACK, so the logs are complete.
                var landings: [String: [Int]] = [:]
                for (index, broker) in brokers.enumerated() {
                    for client in broker.clientsConnected() {
                        landings[client.clientID, default: []].append(index)
                    }
                }
                for id in ids {
                    let places = landings[id] ?? []
                    #expect(places.count == 2, "\(id) connected \(places.count) times: \(places)")
                    #expect(Set(places).count == 1, "\(id) landed on brokers \(places)")
                }
                let used = Set(landings.values.compactMap(\.first))
                #expect(used.count > 1, "all 20 ids landed on broker(s) \(used)")
            }
        }
    }
}
