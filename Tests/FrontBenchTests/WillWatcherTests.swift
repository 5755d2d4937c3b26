import FrontBench
import FrontTesting
import NIOPosix
import Testing

/// The Will watcher against a real mosquitto: it counts what arrives under the prefix, nothing else.
@Suite struct WillWatcherTests {
    @Test func countsMessagesUnderThePrefixOnly() async throws {
        let broker = try await MosquittoProcess.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let watcher = WillWatcher(brokers: [BenchEndpoint(host: "127.0.0.1", port: broker.port)], topicPrefix: "wills")
        watcher.start(on: group)
        #expect(await Poll.until(timeout: .seconds(10)) { watcher.subscribed == 1 })
        let (client, code) = try await MQTTTestClient.connect(port: broker.port, clientID: "will-publisher")
        #expect(code == 0)
        try await client.publish(topic: "other/bench-1", payload: Array("x".utf8))
        try await client.publish(topic: "willsx/bench-1", payload: Array("x".utf8))
        for index in 0..<3 { try await client.publish(topic: "wills/bench-\(index)", payload: Array("bench".utf8)) }
        #expect(await Poll.until(timeout: .seconds(10)) { watcher.wills >= 3 })
        #expect(watcher.wills == 3)
        #expect(watcher.failed == 0)
        await client.disconnect()
        try await OwnThread.run { watcher.stop() }
        try await group.shutdownGracefully()
        await broker.stop()
    }
}
