import Foundation
import FrontConfig
import FrontTesting
import Testing

import struct NIOConcurrencyHelpers.NIOLockedValueBox

#if canImport(Glibc)
    import Glibc
#endif

/// Certificates made for one test with the `openssl` command line, in a fresh temporary directory
/// (never committed): a CA, a server certificate for `127.0.0.1` / `localhost`, a client
/// certificate `CN=device-42` from that CA, and a second client certificate (also `CN=device-42`)
/// from an unrelated CA. EC P-256 keys, so generating them takes milliseconds.
struct TestCertificates {
    let directory: TemporaryDirectory

    var caCertificate: String { "\(directory.path)/ca.pem" }
    var serverCertificate: String { "\(directory.path)/server.pem" }
    var serverKey: String { "\(directory.path)/server.key" }
    var clientCertificate: String { "\(directory.path)/client.pem" }
    var clientKey: String { "\(directory.path)/client.key" }
    var rogueCertificate: String { "\(directory.path)/rogue.pem" }
    var rogueKey: String { "\(directory.path)/rogue.key" }

    /// Runs `openssl` to create every file; throws with its output when a step fails.
    static func make() async throws -> TestCertificates {
        let directory = try TemporaryDirectory(prefix: "certs")
        let certificates = TestCertificates(directory: directory)
        do {
            try await certificates.generate()
        } catch {
            directory.remove()
            throw error
        }
        return certificates
    }

    func remove() { directory.remove() }

    private func generate() async throws {
        let dir = directory.path
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try directory.write(
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n", to: "server.ext")
        try directory.write("extendedKeyUsage=clientAuth\n", to: "client.ext")
        let steps: [[String]] = [
            ["req", "-x509"] + key + [
                "-keyout", "\(dir)/ca.key", "-out", "\(dir)/ca.pem", "-days", "2", "-subj", "/CN=test-ca",
            ],
            ["req", "-x509"] + key + [
                "-keyout", "\(dir)/other-ca.key", "-out", "\(dir)/other-ca.pem", "-days", "2", "-subj", "/CN=other-ca",
            ],
            ["req"] + key + ["-keyout", "\(dir)/server.key", "-out", "\(dir)/server.csr", "-subj", "/CN=localhost"],
            [
                "x509", "-req", "-in", "\(dir)/server.csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key",
                "-set_serial", "2", "-days", "2", "-out", "\(dir)/server.pem", "-extfile", "\(dir)/server.ext",
            ],
            ["req"] + key + ["-keyout", "\(dir)/client.key", "-out", "\(dir)/client.csr", "-subj", "/CN=device-42"],
            [
                "x509", "-req", "-in", "\(dir)/client.csr", "-CA", "\(dir)/ca.pem", "-CAkey", "\(dir)/ca.key",
                "-set_serial", "3", "-days", "2", "-out", "\(dir)/client.pem", "-extfile", "\(dir)/client.ext",
            ],
            ["req"] + key + ["-keyout", "\(dir)/rogue.key", "-out", "\(dir)/rogue.csr", "-subj", "/CN=device-42"],
            [
                "x509", "-req", "-in", "\(dir)/rogue.csr", "-CA", "\(dir)/other-ca.pem", "-CAkey",
                "\(dir)/other-ca.key", "-set_serial", "4", "-days", "2", "-out", "\(dir)/rogue.pem", "-extfile",
                "\(dir)/client.ext",
            ],
        ]
        for step in steps {
            let result = try await CommandLineTool.run("openssl", step, timeout: .seconds(20))
            guard result.status == 0 else {
                throw HarnessError("openssl \(step.joined(separator: " ")) failed: \(result.stderr)")
            }
        }
    }
}

/// Python 3 helper scripts (``EdgeScripts``) written into a test's directory and run as separate
/// processes: many sockets per process, so the load is not inside the test process.
enum PythonTool {
    /// The system interpreter when present (starts faster than a pyenv shim), else `python3` on PATH.
    static var interpreter: String {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
    }

    /// Writes `source` as `name` into `directory`; returns its path.
    static func write(_ source: String, named name: String, in directory: TemporaryDirectory) throws -> String {
        try directory.write(source, to: name)
    }
}

/// An HAProxy 2.6 process (`haproxy -f CFG -db`, foreground) with a config written by the test.
final class HAProxyProcess: Sendable {
    let child: ChildProcess
    let directory: TemporaryDirectory

    private init(child: ChildProcess, directory: TemporaryDirectory) {
        self.child = child
        self.directory = directory
    }

    /// Starts HAProxy with `config` and waits until `port` (one of its binds) accepts connections.
    static func start(config: String, waitingFor port: Int) async throws -> HAProxyProcess {
        let directory = try TemporaryDirectory(prefix: "haproxy")
        let path = try directory.write(config, to: "haproxy.cfg")
        let child = try ChildProcess.launch("haproxy", ["-f", path, "-db"], outputDirectory: directory.path)
        let process = HAProxyProcess(child: child, directory: directory)
        guard await PortProbe.waitUntilAccepting(port: port, timeout: .seconds(15), stillRunning: { child.isRunning })
        else {
            let output = child.stdoutText() + child.stderrText()
            await process.stop()
            throw HarnessError("haproxy did not listen on \(port): \(output)")
        }
        return process
    }

    /// What HAProxy printed (its `log stdout` lines go to standard output).
    var output: String { child.stdoutText() + child.stderrText() }

    func stop() async {
        await child.stop()
        directory.remove()
    }
}

/// Runs `body` with `process`, stopping it afterwards, also on failure.
func withStopping<P: Sendable, T>(
    _ process: P, stop: (P) async -> Void, _ body: (P) async throws -> T
) async throws -> T {
    do {
        let result = try await body(process)
        await stop(process)
        return result
    } catch {
        await stop(process)
        throw error
    }
}

extension ChildProcess {
    /// The text of a file, empty when it is missing.
    static func readFile(_ path: String) -> String { read(path) }
}

/// Process memory as the kernel reports it.
enum ProcessMemory {
    /// Memory bounds are multiplied by this: 3 under a sanitizer (`BROKERFRONT_SANITIZER` set by
    /// scripts/sanitizers.sh), whose shadow memory, redzones and quarantine inflate RSS; else 1.
    static var boundFactor: Double {
        ProcessInfo.processInfo.environment["BROKERFRONT_SANITIZER"].map { $0.isEmpty ? 1 : 3 } ?? 1
    }

    /// `VmRSS` of `pid` (or of this process) in KiB; nil when it cannot be read.
    static func residentKiB(pid: Int32? = nil) -> Int? {
        let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
        let text = ChildProcess.readFile(path)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }

    /// Open descriptors of this process (for a test that wants to know its budget).
    static func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
    }
}

/// Lines of a helper script's standard output that start with `tag` (`READY`, `CLOSED`, ...), as
/// `key=value` dictionaries (the first word is the tag).
func scriptRecords(_ text: String, tag: String) -> [[String: String]] {
    text.split(separator: "\n").filter { $0.hasPrefix(tag + " ") || $0 == tag }.map { line in
        var fields: [String: String] = [:]
        for word in line.split(separator: " ").dropFirst() {
            if let equals = word.firstIndex(of: "=") {
                fields[String(word[..<equals])] = String(word[word.index(after: equals)...])
            } else {
                fields[String(word)] = ""
            }
        }
        return fields
    }
}

/// Stop actions collected while a test starts processes, run in reverse order at the end, whether
/// the test returns or throws (each action stops one process by its PID). Thread-safe.
final class StopList: Sendable {
    private let actions = LockedValue<[@Sendable () async -> Void]>([])

    /// Registers `action` to run at the end.
    func add(_ action: @escaping @Sendable () async -> Void) {
        actions.withLock { $0.append(action) }
    }

    /// Runs every action, last added first.
    func runAll() async {
        let all = actions.withLock { list in
            defer { list.removeAll() }
            return list
        }
        for action in all.reversed() { await action() }
    }
}

/// Runs `body` with a ``StopList`` and runs its actions afterwards, also on failure.
func withStopList<T>(_ body: (StopList) async throws -> T) async throws -> T {
    let stops = StopList()
    do {
        let result = try await body(stops)
        await stops.runAll()
        return result
    } catch {
        await stops.runAll()
        throw error
    }
}

/// A value behind a mutex, shareable by closures (the harness's own `Locked` is internal to FrontTesting).
final class LockedValue<Value: Sendable>: Sendable {
    private let mutex: NIOLockedValueBox<Value>

    init(_ value: Value) { mutex = NIOLockedValueBox(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLockedValue { body(&$0) }
    }

    var value: Value { withLock { $0 } }
}

/// Connects `ids` through the front (MQTT 3.1.1, clean session) with at most `concurrency` connects
/// under way; every one must get CONNACK 0. Returns the clients, in completion order.
func connectMany(
    port: Int, ids: [String], concurrency: Int, keepAlive: UInt16 = 60
) async throws -> [MQTTTestClient] {
    try await withThrowingTaskGroup(of: MQTTTestClient.self) { group in
        var remaining = ids.makeIterator()
        func addNext() {
            guard let id = remaining.next() else { return }
            group.addTask {
                let (client, code) = try await MQTTTestClient.connect(port: port, clientID: id, keepAlive: keepAlive)
                guard code == 0 else {
                    await client.close()
                    throw HarnessError("\(id): CONNACK code \(code)")
                }
                return client
            }
        }
        for _ in 0..<concurrency { addNext() }
        var clients: [MQTTTestClient] = []
        do {
            while let client = try await group.next() {
                clients.append(client)
                addNext()
            }
        } catch {
            for client in clients { await client.close() }
            throw error
        }
        return clients
    }
}

/// Disconnects all `clients` concurrently.
func disconnectAll(_ clients: [MQTTTestClient]) async {
    await withTaskGroup(of: Void.self) { group in
        for client in clients { group.addTask { await client.disconnect() } }
    }
}

extension FrontConfiguration {
    /// The same configuration with every backend's dial timeout at 5 s instead of the harness's 1 s.
    ///
    /// The edge tests share a 2-core host with parallel builds (load averages of 10–70 were seen): a
    /// starved single-threaded mosquitto then accepts seconds late, a 1 s dial times out, the front
    /// marks the broker down and answers Server unavailable — true to the config, but not what these
    /// tests are about.
    var withPatientDials: FrontConfiguration {
        var copy = self
        for index in copy.backends.indices { copy.backends[index].connectTimeout = .seconds(5) }
        return copy
    }
}
