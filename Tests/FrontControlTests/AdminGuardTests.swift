import Testing

@testable import FrontControl

/// ``AdminGuard``: every rule of the admin plane's protection, without sockets.
@Suite("admin guard")
struct AdminGuardTests {
    typealias Request = AdminGuard.Request

    static func post(
        host: String? = "127.0.0.1:8404", origin: String? = nil, contentType: String? = "application/json",
        authorization: String? = nil, peer: String? = "127.0.0.1", path: String = "/reload"
    ) -> Request {
        Request(
            method: "POST", path: path, host: host, origin: origin, contentType: contentType,
            authorization: authorization, peer: peer)
    }

    static func status(_ request: Request, token: String? = nil, hosts: [String] = []) -> Int? {
        AdminGuard.refusal(for: request, token: token, hosts: hosts)?.status
    }

    @Test("kinds: GET is a read except /sessions; every other method is a mutation")
    func kinds() {
        #expect(AdminGuard.kind(method: "GET", path: "/status") == .read)
        #expect(AdminGuard.kind(method: "GET", path: "/healthz") == .read)
        #expect(AdminGuard.kind(method: "GET", path: "/") == .read)
        #expect(AdminGuard.kind(method: "GET", path: "/status/history") == .read)
        #expect(AdminGuard.kind(method: "GET", path: "/sessions") == .sessions)
        #expect(AdminGuard.kind(method: "HEAD", path: "/sessions") == .sessions)
        for method in ["POST", "DELETE", "PUT", "PATCH", "post"] {
            #expect(AdminGuard.kind(method: method, path: "/status") == .mutation)
        }
    }

    @Test("without a token: mutations from loopback peers only (403 with how to set a token)")
    func protectedMode() throws {
        #expect(Self.status(Self.post(peer: "127.0.0.1")) == nil)
        #expect(Self.status(Self.post(peer: "127.9.8.7")) == nil)
        #expect(Self.status(Self.post(peer: "::1")) == nil)
        #expect(Self.status(Self.post(peer: "::ffff:127.0.0.1")) == nil)
        for peer in ["192.0.2.7", "10.0.0.1", "::ffff:10.0.0.1", "fd00::2", nil] as [String?] {
            let refusal = try #require(AdminGuard.refusal(for: Self.post(peer: peer), token: nil, hosts: []))
            #expect(refusal.status == 403, "\(peer ?? "nil")")
            #expect(refusal.message.contains("admin.token_file"))
        }
        // Reads and /sessions are not limited to loopback.
        let sessions = Request(method: "GET", path: "/sessions", host: "10.0.0.5:8404", peer: "192.0.2.7")
        #expect(Self.status(sessions) == nil)
    }

    @Test("with a token: mutations and GET /sessions need it, from any peer; reads never")
    func token() {
        let remote = Self.post(authorization: "Bearer s3cret", peer: "192.0.2.7")
        #expect(Self.status(remote, token: "s3cret") == nil)
        #expect(Self.status(Self.post(peer: "127.0.0.1"), token: "s3cret") == 401)
        #expect(Self.status(Self.post(authorization: "Bearer wrong"), token: "s3cret") == 401)
        let sessions = Request(method: "GET", path: "/sessions", host: "127.0.0.1", peer: "127.0.0.1")
        #expect(Self.status(sessions, token: "s3cret") == 401)
        var authorized = sessions
        authorized.authorization = "Bearer s3cret"
        #expect(Self.status(authorized, token: "s3cret") == nil)
        let status = Request(method: "GET", path: "/status", host: "any.example", peer: "192.0.2.7")
        #expect(Self.status(status, token: "s3cret") == nil)
        // The page's chart data is a read like /status: no token, any Host, any peer.
        let history = Request(method: "GET", path: "/status/history", host: "any.example", peer: "192.0.2.7")
        #expect(Self.status(history, token: "s3cret") == nil)
    }

    @Test("Content-Type: application/json on mutations (parameters and case allowed), else 415")
    func contentType() {
        #expect(Self.status(Self.post(contentType: "application/json")) == nil)
        #expect(Self.status(Self.post(contentType: "Application/JSON; charset=utf-8")) == nil)
        for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "", nil] as [String?] {
            #expect(Self.status(Self.post(contentType: type)) == 415, "\(type ?? "nil")")
        }
        // The token is checked first: an unauthenticated caller learns nothing more.
        #expect(Self.status(Self.post(contentType: "text/plain"), token: "t") == 401)
    }

    @Test("Origin: the plane's own (http or https and its Host) passes; any other is refused on every request")
    func origin() {
        #expect(Self.status(Self.post(origin: "http://127.0.0.1:8404")) == nil)
        #expect(Self.status(Self.post(origin: "HTTPS://127.0.0.1:8404")) == nil)
        for origin in ["http://evil.example", "null", "http://127.0.0.1:8405", "http://127.0.0.1", ""] {
            #expect(Self.status(Self.post(origin: origin)) == 403, "\(origin)")
            let read = Request(method: "GET", path: "/status", host: "127.0.0.1:8404", origin: origin)
            #expect(Self.status(read) == 403, "\(origin)")
        }
        #expect(Self.status(Self.post(host: nil, origin: "http://127.0.0.1:8404")) == 403)
    }

    @Test("Host: IP literals, localhost and admin.hosts pass for mutations and /sessions; other names 403")
    func host() {
        for host in [
            "127.0.0.1", "127.0.0.1:8404", "10.1.2.3:80", "[::1]:8404", "[fd00::2]", "localhost",
            "LocalHost:8404", "localhost.:8404",
        ] {
            #expect(Self.status(Self.post(host: host)) == nil, "\(host)")
        }
        for host in ["attacker.example", "attacker.example:8404", "127.0.0.1.nip.io", "::1", "[::1", "", nil]
            as [String?]
        {
            #expect(Self.status(Self.post(host: host)) == 403, "\(host ?? "nil")")
            let sessions = Request(method: "GET", path: "/sessions", host: host, peer: "127.0.0.1")
            #expect(Self.status(sessions) == 403, "\(host ?? "nil")")
        }
        #expect(Self.status(Self.post(host: "Front.Example:8404"), hosts: ["front.example"]) == nil)
        #expect(Self.status(Self.post(host: "front.example."), hosts: ["front.example"]) == nil)
        let read = Request(method: "GET", path: "/metrics", host: "attacker.example")
        #expect(Self.status(read) == nil)
    }

    @Test("the sessions gate: at most its limit at once, a place comes back on leave")
    func gate() {
        let gate = ConcurrencyGate(limit: 2)
        #expect(gate.tryEnter())
        #expect(gate.tryEnter())
        #expect(!gate.tryEnter())
        gate.leave()
        #expect(gate.tryEnter())
        #expect(gate.inUse == 2)
    }
}
