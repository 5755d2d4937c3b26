import FrontConfig
import FrontTesting
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import FrontControl

/// The admin plane's life cycle with a stand-in application: no sockets, so a failure can be made
/// to happen on demand.
@Suite("admin plane life cycle")
struct AdminPlaneTests {
    /// Serves at once on port 1000 + its generation; ends with an error when `failNow` is raised.
    final class FakeApplication: Service, Sendable {
        let port: Int
        let onRunning: @Sendable (Int) async -> Void
        let failNow: Box

        init(port: Int, failNow: Box, onRunning: @escaping @Sendable (Int) async -> Void) {
            self.port = port
            self.failNow = failNow
            self.onRunning = onRunning
        }

        struct Crashed: Error {}

        func run() async throws {
            await onRunning(port)
            while !Task.isShuttingDownGracefully {
                if failNow.flag.load(ordering: .relaxed) { throw Crashed() }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    @Test("an application that ends on its own clears the port, and asking for the same address starts it again")
    func restartsAfterOwnEnd() async throws {
        let failNow = Box()
        let made = Mutex(0)
        let plane = AdminPlane(
            initial: AdminConfig(bind: Endpoint(host: "127.0.0.1", port: 9100)), logger: Logger(label: "test")
        ) { _, onRunning in
            let generation = made.withLock { count in
                count += 1
                return count
            }
            return FakeApplication(port: 1000 + generation, failNow: failNow, onRunning: onRunning)
        }
        let group = ServiceGroup(configuration: .init(services: [plane], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(await Poll.until(timeout: .seconds(5), interval: .milliseconds(5)) { plane.port == 1001 })
            failNow.flag.store(true, ordering: .relaxed)
            #expect(await Poll.until(timeout: .seconds(5), interval: .milliseconds(5)) { plane.port == nil })
            failNow.flag.store(false, ordering: .relaxed)
            plane.request(AdminConfig(bind: Endpoint(host: "127.0.0.1", port: 9100)))
            #expect(await Poll.until(timeout: .seconds(5), interval: .milliseconds(5)) { plane.port == 1002 })
            // A move to another address replaces it; no request means no plane.
            plane.request(AdminConfig(bind: Endpoint(host: "127.0.0.1", port: 9200)))
            #expect(
                await Poll.until(timeout: .seconds(5), interval: .milliseconds(5)) {
                    plane.port == 1003 && plane.bind?.port == 9200
                })
            plane.request(nil)
            #expect(await Poll.until(timeout: .seconds(5), interval: .milliseconds(5)) { plane.port == nil })
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// The shared failure switch (Atomic is not copyable; the closures share this box).
    final class Box: Sendable {
        let flag = Atomic<Bool>(false)
    }
}
