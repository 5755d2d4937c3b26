import FrontConfig
import FrontTesting
import Testing

/// A `tcp` listener relays bytes untouched, half-close included, in front of a real redis-server.
@Suite("TCP listener in front of redis")
struct TCPListenerTests {
    private func config(redisPort: Int) -> FrontConfiguration {
        TestConfig.front(
            listeners: [
                TestConfig.mqttListener(name: "redis", backend: "redis") { $0.protocol = .tcp }
            ],
            backends: [TestConfig.backend(name: "redis", ports: [redisPort], balance: .roundRobin)])
    }

    @Test("redis-cli SET through the front, GET straight from redis")
    func setThroughFront() async throws {
        try await withRedis { redis in
            try await withFront(config(redisPort: redis.port)) { front in
                let port = try front.port("redis")
                #expect(try await RedisProcess.command(port: port, ["SET", "k", "v"]) == "OK")
                #expect(try await redis.command(["GET", "k"]) == "v")
                #expect(await front.waitForActive(0, listener: "redis"))
            }
        }
    }

    @Test("a client that sends PING and half-closes still gets +PONG")
    func halfClose() async throws {
        try await withRedis { redis in
            try await withFront(config(redisPort: redis.port)) { front in
                let client = try await TestClient.connect(port: try front.port("redis"))
                try await client.send("PING\r\n")
                try await client.shutdownOutput()
                let answer = try await client.readUntilClose(timeout: .seconds(3))
                await client.close()
                #expect(String(decoding: answer, as: UTF8.self) == "+PONG\r\n")
                let line = await front.waitForSessionClosed(matching: ["listener": "redis"])
                #expect(line?["reason"] == "client_closed")
                #expect(await front.waitForActive(0, listener: "redis"))
            }
        }
    }
}
