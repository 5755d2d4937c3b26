import FrontConfig
import FrontTesting
import Testing

/// A `tcp` listener relays bytes untouched, half-close included, in front of a real redis-server.
@Suite("TCP listener in front of redis")
struct TCPListenerTests {
    private func config(
        _ shell: Shell, redisPort: Int, listener configure: (inout ListenerConfig) -> Void = { _ in }
    ) -> FrontConfiguration {
        TestConfig.front(
            listeners: [
                TestConfig.mqttListener(name: "redis", backend: "redis") {
                    $0.protocol = .tcp
                    configure(&$0)
                }
            ],
            backends: [TestConfig.backend(name: "redis", ports: [redisPort], balance: .roundRobin)]
        ).on(shell)
    }

    @Test("redis-cli SET through the front, GET straight from redis", arguments: Shell.allCases)
    func setThroughFront(shell: Shell) async throws {
        try await withRedis { redis in
            try await withFront(config(shell, redisPort: redis.port)) { front in
                let port = try front.port("redis")
                #expect(try await RedisProcess.command(port: port, ["SET", "k", "v"]) == "OK")
                #expect(try await redis.command(["GET", "k"]) == "v")
                #expect(await front.waitForActive(0, listener: "redis"))
            }
        }
    }

    @Test("a client that sends PING and half-closes still gets +PONG", arguments: Shell.allCases)
    func halfClose(shell: Shell) async throws {
        try await withRedis { redis in
            try await withFront(config(shell, redisPort: redis.port)) { front in
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

    @Test(
        "per_source_ip 1 on a tcp listener: a second connection from one IP is closed with no bytes and counted as limit; another IP is served",
        arguments: Shell.allCases)
    func perSourceIPRefusal(shell: Shell) async throws {
        try await withRedis { redis in
            try await withFront(config(shell, redisPort: redis.port) { $0.limits.perSourceIP = 1 }) { front in
                let port = try front.port("redis")
                let first = try await TestClient.connect(port: port, sending: Array("PING\r\n".utf8))
                #expect(try await first.read(count: 7, timeout: .seconds(3)) == Array("+PONG\r\n".utf8))
                let second = try await TestClient.connect(port: port, sending: Array("PING\r\n".utf8))
                #expect(try await second.readUntilClose(timeout: .seconds(3)) == [])
                await second.close()
                #expect(
                    await Poll.until(timeout: .seconds(2)) {
                        front.metric(
                            "brokerfront_connections_rejected_total", ["listener": "redis", "reason": "limit"])
                            == 1
                    }, "\(front.metricsText)")
                let other = try await TestClient.connect(
                    port: port, bindTo: "127.0.0.2", sending: Array("PING\r\n".utf8))
                #expect(try await other.read(count: 7, timeout: .seconds(3)) == Array("+PONG\r\n".utf8))
                await other.close()
                await first.close()
                let refused = await front.waitForSessionClosed(matching: ["listener": "redis", "reason": "limit"])
                #expect(refused != nil)
                #expect(await front.waitForActive(0, listener: "redis"))
            }
        }
    }
}
