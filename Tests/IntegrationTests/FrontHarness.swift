import FrontConfig
import FrontControl
import FrontTesting

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// A test-setup failure with a message.
struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A boolean shared between a task and its observers (a `Mutex` itself cannot be captured).
final class SharedFlag: Sendable {
    private let value = NIOLockedValueBox(false)
    func set() { value.withLockedValue { $0 = true } }
    var isSet: Bool { value.withLockedValue { $0 } }
}

/// One in-process front started for a test: the runner, its captured logs and the task running it.
final class RunningFront: Sendable {
    let runner: FrontRunner
    let logs: CapturedLogs
    private let task: Task<Void, any Error>
    private let finished: SharedFlag

    private init(runner: FrontRunner, logs: CapturedLogs, task: Task<Void, any Error>, finished: SharedFlag) {
        self.runner = runner
        self.logs = logs
        self.task = task
        self.finished = finished
    }

    /// Starts a front for `configuration` and waits until its listeners (and admin plane) are bound.
    static func start(_ configuration: FrontConfiguration) async throws -> RunningFront {
        let logs = CapturedLogs()
        let runner = FrontRunner(configuration: configuration, logger: logs.logger())
        let finished = SharedFlag()
        let task = Task {
            defer { finished.set() }
            try await runner.run()
        }
        let front = RunningFront(runner: runner, logs: logs, task: task, finished: finished)
        guard await runner.waitUntilReady(timeout: .seconds(10)) else {
            await front.stop()
            throw HarnessError("the front did not become ready within 10 s")
        }
        return front
    }

    /// The real port of listener `name` (bound on port 0).
    func port(_ name: String = "mqtt") throws -> Int {
        guard let binding = runner.proxy.boundListeners.first(where: { $0.name == name }) else {
            throw HarnessError("no bound listener named \(name)")
        }
        return binding.port
    }

    /// Whether `run()` has returned.
    var hasStopped: Bool { finished.isSet }

    /// Waits (bounded) until `run()` has returned; true if it did within `timeout`.
    func waitUntilStopped(timeout: Duration) async -> Bool {
        await Poll.until(timeout: timeout) { finished.isSet }
    }

    /// Asks the front to stop (like SIGTERM) and waits up to `timeout` for `run()` to return.
    /// Idempotent. Returns false when it did not stop in time (the task is then cancelled).
    @discardableResult
    func stop(timeout: Duration = .seconds(10)) async -> Bool {
        await runner.shutdown()
        let stopped = await waitUntilStopped(timeout: timeout)
        if !stopped { task.cancel() }
        return stopped
    }

    /// The Prometheus text the registry emits now.
    var metricsText: String { runner.registry.emitToString() }

    /// One sample's value (summed over samples matching a subset of labels); nil when absent.
    func metric(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        PrometheusText.value(of: name, labels: labels, in: metricsText)
    }

    /// Waits until `brokerfront_connections_active{listener}` is `value`; false on timeout.
    func waitForActive(_ value: Double, listener: String = "mqtt", timeout: Duration = .seconds(5)) async -> Bool {
        await Poll.until(timeout: timeout) {
            metric("brokerfront_connections_active", ["listener": listener]) == value
        }
    }

    /// Waits until a `session closed` line with these metadata values was logged; returns its metadata.
    func waitForSessionClosed(
        matching fields: [String: String], timeout: Duration = .seconds(5)
    ) async -> [String: String]? {
        var found: [String: String]?
        _ = await Poll.until(timeout: timeout) {
            found = logs.sessionsClosed.first { line in fields.allSatisfy { line[$0.key] == $0.value } }
            return found != nil
        }
        return found
    }
}

/// Runs `body` with a front for `configuration`, then stops it, whether `body` returns or throws.
func withFront<T>(
    _ configuration: FrontConfiguration, _ body: (RunningFront) async throws -> T
) async throws -> T {
    let front = try await RunningFront.start(configuration)
    do {
        let result = try await body(front)
        await front.stop()
        return result
    } catch {
        await front.stop()
        throw error
    }
}

/// Runs `body` with `count` fresh mosquitto brokers, stopping each (by PID) afterwards, also on failure.
func withMosquittos<T>(_ count: Int, _ body: ([MosquittoProcess]) async throws -> T) async throws -> T {
    var brokers: [MosquittoProcess] = []
    do {
        for _ in 0..<count { brokers.append(try await MosquittoProcess.start()) }
        let result = try await body(brokers)
        for broker in brokers { await broker.stop() }
        return result
    } catch {
        for broker in brokers { await broker.stop() }
        throw error
    }
}

/// Runs `body` with one fresh mosquitto broker, stopped afterwards, also on failure.
func withMosquitto<T>(_ body: (MosquittoProcess) async throws -> T) async throws -> T {
    try await withMosquittos(1) { try await body($0[0]) }
}

/// Runs `body` with a fresh redis-server, stopped afterwards, also on failure.
func withRedis<T>(_ body: (RedisProcess) async throws -> T) async throws -> T {
    let redis = try await RedisProcess.start()
    do {
        let result = try await body(redis)
        await redis.stop()
        return result
    } catch {
        await redis.stop()
        throw error
    }
}

/// Configuration builders: listeners on free ports of 127.0.0.1 (``FreePort``), servers on loopback ports, short drain.
enum TestConfig {
    /// An `mqtt` listener named `name` on a free port of 127.0.0.1 in front of `backend`.
    static func mqttListener(
        name: String = "mqtt", backend: String = "brokers", configure: (inout ListenerConfig) -> Void = { _ in }
    ) -> ListenerConfig {
        var listener = ListenerConfig(
            name: name, bind: Endpoint(host: "127.0.0.1", port: FreePort.next()), backend: backend)
        configure(&listener)
        return listener
    }

    /// A backend named `name` with one server per port (`b1`, `b2`, ... on 127.0.0.1).
    static func backend(
        name: String = "brokers", ports: [Int], balance: BalanceAlgorithm = .clientID,
        configure: (inout BackendConfig) -> Void = { _ in }
    ) -> BackendConfig {
        let servers = ports.enumerated().map { index, port in
            ServerConfig(name: "b\(index + 1)", address: Endpoint(host: "127.0.0.1", port: port))
        }
        var backend = BackendConfig(name: name, balance: balance, connectTimeout: .seconds(1), servers: servers)
        configure(&backend)
        return backend
    }

    /// A whole front: the drain is short so a stop never waits long on a forgotten session.
    static func front(
        listeners: [ListenerConfig], backends: [BackendConfig], admin: Bool = false,
        drainTimeout: Duration = .milliseconds(300)
    ) -> FrontConfiguration {
        FrontConfiguration(
            admin: admin ? AdminConfig(bind: Endpoint(host: "127.0.0.1", port: FreePort.next())) : nil,
            drainTimeout: drainTimeout, listeners: listeners, backends: backends)
    }

    /// The usual shape: one `mqtt` listener in front of one backend of these ports.
    static func mqttFront(
        ports: [Int], balance: BalanceAlgorithm = .clientID, admin: Bool = false,
        listener: (inout ListenerConfig) -> Void = { _ in }, backend: (inout BackendConfig) -> Void = { _ in }
    ) -> FrontConfiguration {
        front(
            listeners: [mqttListener(configure: listener)],
            backends: [Self.backend(ports: ports, balance: balance, configure: backend)], admin: admin)
    }
}

/// Seconds of a duration, for readable comparisons.
extension Duration {
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// Runs `body` with a ``FakeMQTTBroker``, stopped afterwards, also on failure.
func withFakeBroker<T>(_ body: (FakeMQTTBroker) async throws -> T) async throws -> T {
    let broker = try await FakeMQTTBroker.start()
    do {
        let result = try await body(broker)
        await broker.stop()
        return result
    } catch {
        await broker.stop()
        throw error
    }
}
