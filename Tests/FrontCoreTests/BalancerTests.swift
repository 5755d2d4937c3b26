import FrontConfig
import Testing

@testable import FrontCore

private func backend(
    _ balance: BalanceAlgorithm, servers names: [String], weights: [Int]? = nil, backups: Set<String> = []
) -> BackendRuntime {
    let servers = names.enumerated().map { index, name in
        ServerConfig(
            name: name, address: Endpoint(host: "127.0.0.1", port: 1883 + index),
            weight: weights?[index] ?? 1, backup: backups.contains(name))
    }
    return BackendRuntime(config: BackendConfig(name: "b", balance: balance, servers: servers))
}

private let now = MonotonicTime(nanoseconds: 1_000_000_000_000)

@Suite("Consistent hash (client-id)")
struct ConsistentHashTests {
    @Test("the same client id lands on the same server every time")
    func sticky() {
        let b = backend(.clientID, servers: ["b1", "b2", "b3"])
        for i in 0..<200 {
            let key = RoutingKey(clientID: "device-\(i)", sourceIP: "10.0.0.\(i % 250)")
            let first = b.choose(for: key, at: now)?.name
            for _ in 0..<3 {
                // The source IP must not matter when a client id is present.
                let again = RoutingKey(clientID: "device-\(i)", sourceIP: "10.9.9.9")
                #expect(b.choose(for: again, at: now)?.name == first)
            }
        }
    }

    @Test("3,000 ids over 3 equal servers: each within ±15% of a third")
    func distribution() {
        let b = backend(.clientID, servers: ["b1", "b2", "b3"])
        var counts: [String: Int] = [:]
        for i in 0..<3000 {
            let name =
                b.choose(for: RoutingKey(clientID: "sensor-\(i)", sourceIP: "127.0.0.1"), at: now)?.name ?? "none"
            counts[name, default: 0] += 1
        }
        for server in ["b1", "b2", "b3"] {
            let count = counts[server, default: 0]
            #expect(count >= 850 && count <= 1150, "\(server) got \(count) of 3000")
        }
    }

    @Test("weights are respected: weight 2 takes about twice the share of weight 1")
    func weights() {
        let b = backend(.clientID, servers: ["b1", "b2"], weights: [1, 2])
        var heavy = 0
        for i in 0..<3000 where b.choose(for: RoutingKey(clientID: "w-\(i)", sourceIP: "x"), at: now)?.name == "b2" {
            heavy += 1
        }
        #expect(heavy >= 1800 && heavy <= 2200, "b2 got \(heavy) of 3000, want ~2000")
    }

    @Test("a server going down moves only its own clients")
    func minimalMovement() {
        let b = backend(.clientID, servers: ["b1", "b2", "b3"])
        let keys = (0..<3000).map { RoutingKey(clientID: "client-\($0)", sourceIP: "127.0.0.1") }
        let before = keys.map { b.choose(for: $0, at: now)?.name }
        guard let b2 = b.server(named: "b2") else {
            Issue.record("no b2")
            return
        }
        _ = b2.dialFailed(at: now)
        var moved = 0
        for (key, old) in zip(keys, before) {
            let new = b.choose(for: key, at: now)?.name
            if old == "b2" {
                #expect(new != "b2")
                moved += 1
            } else {
                #expect(new == old, "a client of \(old ?? "-") moved to \(new ?? "-")")
            }
        }
        #expect(moved > 800)
        // Coming back returns exactly the same clients.
        _ = b2.dialSucceeded()
        #expect(keys.map { b.choose(for: $0, at: now)?.name } == before)
    }

    @Test("an empty client id falls back to the source IP")
    func emptyClientIDUsesSourceIP() {
        let balancer = ConsistentHashBalancer(keying: .clientID)
        #expect(balancer.hashInput(for: RoutingKey(clientID: "", sourceIP: "10.1.2.3")) == "ip:10.1.2.3")
        #expect(balancer.hashInput(for: RoutingKey(clientID: nil, sourceIP: "10.1.2.3")) == "ip:10.1.2.3")
        let b = backend(.clientID, servers: ["b1", "b2", "b3"])
        let viaIP = b.choose(for: RoutingKey(clientID: "", sourceIP: "10.1.2.3"), at: now)
        let sourceIPBalance = backend(.sourceIP, servers: ["b1", "b2", "b3"])
        #expect(viaIP?.name == sourceIPBalance.choose(for: RoutingKey(sourceIP: "10.1.2.3"), at: now)?.name)
    }

    @Test("username balance hashes the user name, falling back to the client id")
    func usernameKeying() {
        let balancer = ConsistentHashBalancer(keying: .username)
        #expect(balancer.hashInput(for: RoutingKey(clientID: "c", username: "u", sourceIP: "ip")) == "user:u")
        #expect(balancer.hashInput(for: RoutingKey(clientID: "c", username: nil, sourceIP: "ip")) == "id:c")
        let b = backend(.username, servers: ["b1", "b2", "b3"])
        let one = b.choose(for: RoutingKey(clientID: "a", username: "fleet-7", sourceIP: "1"), at: now)
        let two = b.choose(for: RoutingKey(clientID: "b", username: "fleet-7", sourceIP: "2"), at: now)
        #expect(one === two)
    }

    @Test("the hash is stable across processes: fixed expectations")
    func stableAcrossProcesses() {
        #expect(StableHash.of("") == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.of("a") == 0xaf63_dc4c_8601_ec8c)
    }
}

@Suite("Other balancers")
struct OtherBalancerTests {
    @Test("round robin cycles through servers in proportion to weight")
    func roundRobin() {
        let b = backend(.roundRobin, servers: ["b1", "b2", "b3"], weights: [1, 1, 2])
        var counts: [String: Int] = [:]
        // Weights count in 1/64 steps (slow start), so one full cycle is 4 × 64 turns.
        for _ in 0..<512 { counts[b.choose(for: RoutingKey(sourceIP: "x"), at: now)?.name ?? "-", default: 0] += 1 }
        #expect(counts == ["b1": 128, "b2": 128, "b3": 256])
    }

    @Test("least connections prefers the emptiest server")
    func leastConnections() {
        let b = backend(.leastConnections, servers: ["b1", "b2", "b3"])
        b.servers[0].sessionOpened()
        b.servers[0].sessionOpened()
        b.servers[2].sessionOpened()
        #expect(b.choose(for: RoutingKey(sourceIP: "x"), at: now)?.name == "b2")
        b.servers[1].sessionOpened()
        b.servers[1].sessionOpened()
        #expect(b.choose(for: RoutingKey(sourceIP: "x"), at: now)?.name == "b3")
    }

    @Test("first: the first usable active server in list order, then the first backup")
    func first() {
        let b = backend(.first, servers: ["primary", "secondary", "spare"], backups: ["spare"])
        #expect(b.choose(for: RoutingKey(sourceIP: "x"), at: now)?.name == "primary")
        _ = b.servers[0].dialFailed(at: now)
        #expect(b.choose(for: RoutingKey(sourceIP: "x"), at: now)?.name == "secondary")
        _ = b.servers[1].dialFailed(at: now)
        #expect(b.choose(for: RoutingKey(sourceIP: "x"), at: now)?.name == "spare")
        #expect(b.activeServer(at: now)?.name == "spare")
    }

    @Test("backups take traffic only when no active server can, for client-id too")
    func backupTier() {
        let b = backend(.clientID, servers: ["b1", "b2", "bk"], backups: ["bk"])
        for i in 0..<100 {
            #expect(b.choose(for: RoutingKey(clientID: "c\(i)", sourceIP: "x"), at: now)?.name != "bk")
        }
        _ = b.servers[0].dialFailed(at: now)
        _ = b.servers[1].dialFailed(at: now)
        #expect(b.choose(for: RoutingKey(clientID: "c1", sourceIP: "x"), at: now)?.name == "bk")
    }

    @Test("excluded (already tried) servers are skipped; none left gives nil")
    func exclusion() {
        let b = backend(.clientID, servers: ["b1", "b2"])
        let key = RoutingKey(clientID: "dev", sourceIP: "x")
        guard let first = b.choose(for: key, at: now) else {
            Issue.record("no server")
            return
        }
        let second = b.choose(for: key, at: now, excluding: [first])
        #expect(second != nil && second !== first)
        #expect(b.choose(for: key, at: now, excluding: b.servers) == nil)
    }

    @Test("a server at max_connections takes no new session")
    func serverCap() {
        let servers = [
            ServerConfig(name: "small", address: Endpoint(host: "127.0.0.1", port: 1), maxConnections: 1),
            ServerConfig(name: "big", address: Endpoint(host: "127.0.0.1", port: 2)),
        ]
        let b = BackendRuntime(config: BackendConfig(name: "b", balance: .first, servers: servers))
        #expect(b.choose(for: RoutingKey(sourceIP: "x"), at: now)?.name == "small")
        b.servers[0].sessionOpened()
        #expect(b.choose(for: RoutingKey(sourceIP: "x"), at: now)?.name == "big")
    }

    @Test("source IPs rotate")
    func sourceRotation() {
        let server = ServerRuntime(
            backendName: "b", config: ServerConfig(name: "s", address: Endpoint(host: "h", port: 1)), index: 0,
            backendSourceIPs: ["127.0.2.1", "127.0.2.2"])
        #expect((0..<4).map { _ in server.nextSourceIP() } == ["127.0.2.1", "127.0.2.2", "127.0.2.1", "127.0.2.2"])
        let own = ServerRuntime(
            backendName: "b",
            config: ServerConfig(name: "s", address: Endpoint(host: "h", port: 1), sourceIPs: ["127.0.3.1"]),
            index: 0, backendSourceIPs: ["127.0.2.1"])
        #expect(own.nextSourceIP() == "127.0.3.1")
    }
}
