import FrontConfig
import Testing

@testable import FrontCore

@Suite("Source port pool")
struct SourcePortPoolTests {
    @Test("hands out every port of the range once, then nil; a released port is handed out again")
    func exhaustAndRelease() {
        for size in [1, 63, 64, 65, 100, 200] {
            let pool = SourcePortPool(lower: 20_000, upper: 20_000 + size - 1)
            var seen = Set<Int>()
            for _ in 0..<size {
                guard let port = pool.acquire() else {
                    Issue.record("ran out after \(seen.count) of \(size)")
                    return
                }
                #expect((20_000..<20_000 + size).contains(port))
                #expect(seen.insert(port).inserted, "\(port) handed out twice")
            }
            #expect(pool.acquire() == nil)
            #expect(pool.inUse == size)
            let back = 20_000 + size / 2
            pool.release(back)
            #expect(!pool.isTaken(back))
            #expect(pool.acquire() == back)
            pool.release(back)
            pool.release(back)  // twice: ignored
            pool.release(19_999)  // outside: ignored
            #expect(pool.inUse == size - 1)
        }
    }

    @Test("ports come in sequence from the cursor, so the kernel's and other processes' runs stay apart")
    func sequential() throws {
        let pool = SourcePortPool(lower: 30_000, upper: 30_999)
        let first = try #require(pool.acquire())
        for step in 1..<10 {
            #expect(pool.acquire() == 30_000 + (first - 30_000 + step) % 1000)
        }
    }

    @Test("a port found taken elsewhere stays out of use (quarantine) and no longer counts as ours")
    func collision() throws {
        let pool = SourcePortPool(lower: 40_000, upper: 40_009)
        let port = try #require(pool.acquire())
        pool.collided(port)
        #expect(pool.isTaken(port))
        #expect(pool.inUse == 0)
        var seen = Set<Int>()
        while let next = pool.acquire() { seen.insert(next) }
        #expect(seen.count == 9 && !seen.contains(port))
    }

    @Test("a server with source_ports binds each upstream connection to a port of its own pool per source IP")
    func serverRuntime() throws {
        let server = ServerRuntime(
            backendName: "b", config: ServerConfig(name: "s", address: Endpoint(host: "127.0.0.1", port: 1883)),
            index: 0, backendSourceIPs: ["127.0.2.1", "127.0.2.2"],
            sourcePorts: SourcePortRange(lower: 20_000, upper: 20_001))
        var taken: [(String, Int)] = []
        for _ in 0..<4 {
            let acquired = try #require(server.acquireSource())
            taken.append((acquired.ip, try #require(acquired.port)))
        }
        #expect(Set(taken.map { "\($0.0):\($0.1)" }).count == 4)
        #expect(server.acquireSource() == nil, "both pools are full")
        server.releaseSource(taken[0].0, port: taken[0].1)
        let again = try #require(server.acquireSource())
        #expect(again.ip == taken[0].0 && again.port == taken[0].1)

        let plain = ServerRuntime(
            backendName: "b", config: ServerConfig(name: "s", address: Endpoint(host: "127.0.0.1", port: 1883)),
            index: 0, backendSourceIPs: ["127.0.2.1"])
        #expect(plain.acquireSource()?.port == nil)
    }
}
