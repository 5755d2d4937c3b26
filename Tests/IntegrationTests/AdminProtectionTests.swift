import FrontConfig
import FrontTesting
import Testing

/// The admin plane's protection, seen from an HTTP client over loopback: the token on `GET /sessions`,
/// `Content-Type`, `Origin` and `Host` checks, idle and slow connections, and bounded `/sessions` pages.
@Suite("Admin plane protection")
struct AdminProtectionTests {
    /// A front with an admin plane (and `token`, when given) before one refusing server, `b1` of `brokers`.
    static func config(token: String? = nil) -> FrontConfiguration {
        var config = TestConfig.mqttFront(ports: [FreePort.refusing()], admin: true)
        config.admin?.token = token
        return config
    }

    /// The state `/status` shows for `b1`.
    static func state(_ port: Int) async throws -> String? {
        let json = try JSONValue.parse(try await HTTPTestClient.get(port: port, path: "/status").body)
        return json["backends"]?[0]?["servers"]?[0]?["state"]?.string
    }

    static let maint = #"{"state":"maint"}"#
    static let statePath = "/backends/brokers/servers/b1/state"

    @Test("with a token, GET /sessions needs it (401 without); /, /status, /status/history and /metrics stay open")
    func sessionsNeedTheToken() async throws {
        try await withFront(Self.config(token: "s3cret")) { front in
            let admin = try #require(front.runner.adminPort)
            let bare = try await HTTPTestClient.get(port: admin, path: "/sessions")
            #expect(bare.status == 401)
            #expect(try JSONValue.parse(bare.body)["error"]?.string?.contains("Bearer") == true)
            let wrong = try await HTTPTestClient.get(
                port: admin, path: "/sessions", headers: ["Authorization": "Bearer nope"])
            #expect(wrong.status == 401)
            let right = try await HTTPTestClient.get(
                port: admin, path: "/sessions", headers: ["Authorization": "Bearer s3cret"])
            #expect(right.status == 200)
            #expect(try JSONValue.parse(right.body)["total"]?.number == 0)
            for path in ["/", "/status", "/status/history", "/metrics"] {
                #expect(try await HTTPTestClient.get(port: admin, path: path).status == 200, "\(path)")
            }
        }
    }

    @Test("a mutation without Content-Type: application/json answers 415 and changes nothing (a text/plain form)")
    func mutationsNeedJSON() async throws {
        try await withFront(Self.config()) { front in
            let admin = try #require(front.runner.adminPort)
            let before = try await Self.state(admin)
            for contentType in ["text/plain", "application/x-www-form-urlencoded", nil] {
                let answer = try await HTTPTestClient.request(
                    method: "POST", port: admin, path: Self.statePath, body: Self.maint, contentType: contentType)
                #expect(answer.status == 415, "\(contentType ?? "none")")
                #expect(try JSONValue.parse(answer.body)["error"]?.string?.contains("application/json") == true)
            }
            let delete = try await HTTPTestClient.request(
                method: "DELETE", port: admin, path: "/sessions/someone", contentType: nil)
            #expect(delete.status == 415)
            #expect(try await Self.state(admin) == before)
            // With the header (and a charset), from loopback and no token set: served.
            let served = try await HTTPTestClient.request(
                method: "POST", port: admin, path: Self.statePath, body: Self.maint,
                contentType: "application/json; charset=utf-8")
            #expect(served.status == 200)
            #expect(try await Self.state(admin) == "maint")
        }
    }

    @Test("a foreign Origin is refused (403) on mutations and reads; the plane's own origin is served")
    func foreignOriginRefused() async throws {
        try await withFront(Self.config()) { front in
            let admin = try #require(front.runner.adminPort)
            let before = try await Self.state(admin)
            for origin in ["http://evil.example", "null", "http://127.0.0.1:\(admin + 1)"] {
                let post = try await HTTPTestClient.request(
                    method: "POST", port: admin, path: Self.statePath, body: Self.maint, headers: ["Origin": origin])
                #expect(post.status == 403, "\(origin)")
                #expect(try JSONValue.parse(post.body)["error"]?.string?.contains("origin") == true)
                let read = try await HTTPTestClient.get(port: admin, path: "/status", headers: ["Origin": origin])
                #expect(read.status == 403, "\(origin)")
            }
            #expect(try await Self.state(admin) == before)
            let own = try await HTTPTestClient.request(
                method: "POST", port: admin, path: Self.statePath, body: Self.maint,
                headers: ["Origin": "http://127.0.0.1:\(admin)"])
            #expect(own.status == 200)
        }
    }

    @Test("a mutation or GET /sessions whose Host is a DNS name is refused (403); reads take any Host")
    func dnsRebindingGuard() async throws {
        try await withFront(Self.config()) { front in
            let admin = try #require(front.runner.adminPort)
            let before = try await Self.state(admin)
            let rebound = "rebind.attacker.example:\(admin)"
            let post = try await HTTPTestClient.request(
                method: "POST", port: admin, path: Self.statePath, body: Self.maint, hostHeader: rebound)
            #expect(post.status == 403)
            #expect(try JSONValue.parse(post.body)["error"]?.string?.contains("admin.hosts") == true)
            #expect(try await HTTPTestClient.get(port: admin, path: "/sessions", hostHeader: rebound).status == 403)
            #expect(try await Self.state(admin) == before)
            for path in ["/", "/status", "/status/history", "/metrics"] {
                #expect(try await HTTPTestClient.get(port: admin, path: path, hostHeader: rebound).status == 200)
            }
            for host in ["localhost:\(admin)", "LOCALHOST", "127.0.0.1", "[::1]:\(admin)"] {
                #expect(try await HTTPTestClient.get(port: admin, path: "/sessions", hostHeader: host).status == 200)
            }
        }
    }

    @Test("a name in admin.hosts is accepted as Host for mutations and GET /sessions, also after a reload adds it")
    func namedHosts() async throws {
        var config = Self.config()
        config.admin?.hosts = ["front.example"]
        try await withFront(config) { front in
            let admin = try #require(front.runner.adminPort)
            let named = try await HTTPTestClient.request(
                method: "POST", port: admin, path: Self.statePath, body: Self.maint,
                hostHeader: "Front.Example:\(admin)")
            #expect(named.status == 200)
            let other = "other.example:\(admin)"
            #expect(try await HTTPTestClient.get(port: admin, path: "/sessions", hostHeader: other).status == 403)
            var next = config
            next.admin?.hosts = ["front.example", "other.example"]
            guard case .applied = await front.runner.reloader.reload(with: next) else {
                Issue.record("reload was not applied")
                return
            }
            #expect(try await HTTPTestClient.get(port: admin, path: "/sessions", hostHeader: other).status == 200)
        }
    }

    @Test("GET /sessions refuses a page deeper than its bound (400) instead of keeping every session")
    func sessionsDepthBounded() async throws {
        try await withFront(Self.config()) { front in
            let admin = try #require(front.runner.adminPort)
            let deep = try await HTTPTestClient.get(port: admin, path: "/sessions?offset=999999999")
            #expect(deep.status == 400)
            #expect(try JSONValue.parse(deep.body)["error"]?.string?.contains("offset + limit") == true)
            #expect(try await HTTPTestClient.get(port: admin, path: "/sessions?offset=9000&limit=1000").status == 200)
            #expect(try await HTTPTestClient.get(port: admin, path: "/sessions?offset=9001&limit=1000").status == 400)
        }
    }

    @Test("a request body dripped a byte a second is closed after a few seconds (the response may come first)")
    func slowBodyClosed() async throws {
        try await withFront(Self.config()) { front in
            let admin = try #require(front.runner.adminPort)
            let slow = try await TestClient.connect(port: admin)
            try await slow.send("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{")
            let closed = await Poll.until(timeout: .seconds(20), interval: .seconds(1)) {
                if await slow.waitForClose(timeout: .milliseconds(1)) { return true }
                try? await slow.send(" ")
                return false
            }
            #expect(closed, "a body dripped a byte a second holds an admin connection")
            await slow.close()
        }
    }

    @Test("pages of GET /sessions follow client id order across event loops, each session once")
    func sessionPages() async throws {
        try await withMosquitto { broker in
            try await withFront(TestConfig.mqttFront(ports: [broker.port], admin: true)) { front in
                let admin = try #require(front.runner.adminPort)
                let ids = (0..<12).map { "page-\(String($0, radix: 16))" }.shuffled()
                var clients: [MQTTTestClient] = []
                for id in ids {
                    clients.append(try await MQTTTestClient.connect(port: try front.port(), clientID: id).0)
                }
                var listed: [String] = []
                var offset: Int? = 0
                while let next = offset, listed.count <= ids.count {
                    let page = try JSONValue.parse(
                        try await HTTPTestClient.get(port: admin, path: "/sessions?offset=\(next)&limit=5").body)
                    #expect(page["total"]?.number == Double(ids.count))
                    listed += (page["sessions"]?.array ?? []).compactMap { $0["client_id"]?.string }
                    offset = page["next_offset"]?.number.map { Int($0) }
                }
                #expect(listed == ids.sorted())
                for client in clients { await client.disconnect() }
            }
        }
    }

    @Test("64 idle sockets and a slow request head: /status and /metrics still answer; the idle ones are closed")
    func idleConnectionsDoNotLockOut() async throws {
        try await withFront(Self.config()) { front in
            let admin = try #require(front.runner.adminPort)
            var idle: [TestClient] = []
            for _ in 0..<64 { idle.append(try await TestClient.connect(port: admin)) }
            let slow = try await TestClient.connect(port: admin)
            try await slow.send("GET /status HTTP/1.1\r\nHo")
            let started = ContinuousClock.now
            #expect(try await HTTPTestClient.get(port: admin, path: "/status", timeout: .seconds(3)).status == 200)
            #expect(try await HTTPTestClient.get(port: admin, path: "/metrics", timeout: .seconds(3)).status == 200)
            // The slow head gets one more byte a second: still closed, as it never completes.
            let slowClosed = await Poll.until(timeout: .seconds(15), interval: .seconds(1)) {
                if await slow.waitForClose(timeout: .milliseconds(1)) { return true }
                try? await slow.send("s")
                return false
            }
            #expect(slowClosed, "a request head dripped a byte a second stays open")
            var closed = 0
            for client in idle where await client.waitForClose(timeout: .seconds(15)) { closed += 1 }
            #expect(closed == 64, "\(closed) of 64 idle sockets closed by the admin plane")
            #expect(ContinuousClock.now - started < .seconds(20))
            for client in idle { await client.close() }
            await slow.close()
        }
    }
}
