import FrontTesting
import MQTTWire
import Testing

/// Messages flow through the front both ways, for MQTT 3.1.1 and 5.0, with our client and the
/// mosquitto command-line clients.
@Suite("Publish/subscribe through the front")
struct PubSubTests {
    @Test(
        "a subscriber and a publisher through the front", arguments: Shell.allCases, [MQTTProtocolVersion.v3_1_1, .v5])
    func pubSubThroughFront(shell: Shell, version: MQTTProtocolVersion) async throws {
        try await withMosquitto { broker in
            try await withFront(TestConfig.mqttFront(ports: [broker.port]).on(shell)) { front in
                let port = try front.port()
                let (subscriber, subCode) = try await MQTTTestClient.connect(
                    port: port, clientID: "sub-\(version)", version: version)
                let (publisher, pubCode) = try await MQTTTestClient.connect(
                    port: port, clientID: "pub-\(version)", version: version)
                #expect(subCode == 0)
                #expect(pubCode == 0)
                #expect(await shell.carries(2, on: front), "\(front.runner.proxy.relayStatus)")
                try await subscriber.subscribe("front/\(version)")
                try await publisher.publish(topic: "front/\(version)", payload: Array("hello \(version)".utf8))
                let message = try await subscriber.nextPublish(timeout: .seconds(5))
                #expect(message.topic == "front/\(version)")
                #expect(message.payload == Array("hello \(version)".utf8))
                await publisher.disconnect()
                await subscriber.disconnect()
                #expect(await front.waitForActive(0))
                let ids = Set(broker.clientsConnected().map(\.clientID))
                #expect(ids.isSuperset(of: ["sub-\(version)", "pub-\(version)"]))
            }
        }
    }

    @Test("mosquitto_sub and mosquitto_pub through the front", arguments: Shell.allCases, ["mqttv311", "mqttv5"])
    func cliPubSub(shell: Shell, protocolVersion: String) async throws {
        try await withMosquitto { broker in
            try await withFront(TestConfig.mqttFront(ports: [broker.port]).on(shell)) { front in
                let port = "\(try front.port())"
                let topic = "cli/\(protocolVersion)"
                let subID = "cli-sub-\(protocolVersion)"
                async let received = CommandLineTool.run(
                    "mosquitto_sub",
                    [
                        "-h", "127.0.0.1", "-p", port, "-V", protocolVersion, "-i", subID, "-t", topic, "-C", "1", "-W",
                        "8",
                    ],
                    timeout: .seconds(10))
                // Publish only once the broker has the subscription, so the message cannot be missed.
                let subscribed = await broker.waitForLog(containing: "Received SUBSCRIBE from \(subID)")
                #expect(subscribed)
                let published = try await CommandLineTool.run(
                    "mosquitto_pub",
                    [
                        "-h", "127.0.0.1", "-p", port, "-V", protocolVersion, "-i", "cli-pub-\(protocolVersion)", "-t",
                        topic, "-m", "hello from the cli",
                    ],
                    timeout: .seconds(5))
                #expect(published.status == 0, "mosquitto_pub: \(published.stderr)")
                let result = try await received
                #expect(result.status == 0, "mosquitto_sub: \(result.stderr)")
                #expect(result.stdout == "hello from the cli\n")
                #expect(await front.waitForActive(0))
            }
        }
    }
}
