import FrontConfig
import Testing

@testable import FrontProxy

/// The descriptors kept besides sessions: they grow with what the front runs, so a front at its
/// session cap still has descriptors for its checks, its admin plane and its listeners.
@Suite("Descriptor reserve")
struct DescriptorReserveTests {
    private func front(listeners: Int, checkedServers: Int, admin: Bool, relayThreads: Int? = nil) -> FrontConfiguration
    {
        let check = HealthCheckConfig(type: .tcp)
        let servers = (0..<max(checkedServers, 1)).map {
            ServerConfig(name: "s\($0)", address: Endpoint(host: "127.0.0.1", port: 2000 + $0))
        }
        return FrontConfiguration(
            admin: admin ? AdminConfig(bind: Endpoint(host: "127.0.0.1", port: 8404)) : nil,
            maxConnections: 9_000, relayThreads: relayThreads,
            listeners: (0..<listeners).map {
                ListenerConfig(name: "l\($0)", bind: Endpoint(host: "0.0.0.0", port: 1883 + $0), backend: "b")
            },
            backends: [BackendConfig(name: "b", healthCheck: checkedServers > 0 ? check : nil, servers: servers)])
    }

    @Test("a small front keeps the 64 it always kept")
    func small() {
        let config = front(listeners: 1, checkedServers: 0, admin: false)
        #expect(FileDescriptorLimit.reserve(for: config, eventLoops: 2) == 64)
        #expect(FileDescriptorLimit.needed(for: config, eventLoops: 2) == 18_064)
    }

    @Test(
        "16 event loops, 8 relay threads, 4 listeners, 20 checked servers and the admin plane: 16 + 48 + 24 + 64 + 20 + 129"
    )
    func large() {
        let config = front(listeners: 4, checkedServers: 20, admin: true, relayThreads: 8)
        let reserve = FileDescriptorLimit.reserve(for: config, eventLoops: 16)
        #expect(reserve == 16 + 3 * 16 + 3 * 8 + 4 * 16 + 20 + UInt64(FileDescriptorLimit.adminConnections) + 1)
        #expect(FileDescriptorLimit.needed(for: config, eventLoops: 16) == 18_000 + reserve)
        // With 2,048 descriptors, the sessions that fit leave that many free for the rest.
        #expect(FileDescriptorLimit.sessionsThatFit(soft: 2_048, reserve: reserve) == (2_048 - reserve) / 2)
    }

    @Test("each part adds: more loops, listeners, checks or an admin plane never lower the reserve")
    func grows() {
        let base = FileDescriptorLimit.reserve(for: front(listeners: 8, checkedServers: 8, admin: false), eventLoops: 8)
        #expect(base > 64)
        #expect(
            FileDescriptorLimit.reserve(for: front(listeners: 8, checkedServers: 8, admin: false), eventLoops: 9) > base
        )
        #expect(
            FileDescriptorLimit.reserve(for: front(listeners: 9, checkedServers: 8, admin: false), eventLoops: 8) > base
        )
        #expect(
            FileDescriptorLimit.reserve(for: front(listeners: 8, checkedServers: 9, admin: false), eventLoops: 8) > base
        )
        #expect(
            FileDescriptorLimit.reserve(for: front(listeners: 8, checkedServers: 8, admin: true), eventLoops: 8)
                == base + UInt64(FileDescriptorLimit.adminConnections) + 1)
    }
}
