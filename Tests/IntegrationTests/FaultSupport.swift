import Foundation
import FrontTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The built `brokerfront run` as its own process, for fault tests that measure it (RSS, CPU time,
/// descriptors from /proc) or signal it. Listener and admin ports are picked free before the start;
/// optionally runs under `prlimit --nofile=N:N` (prlimit execs the front, so the PID is the front's).
/// Stopped by PID. Thread-safe.
final class FrontProcess: Sendable {
    let child: ChildProcess
    /// The listener ports handed to the config, in order.
    let ports: [Int]
    let adminPort: Int
    let configPath: String

    private init(child: ChildProcess, ports: [Int], adminPort: Int, configPath: String) {
        self.child = child
        self.ports = ports
        self.adminPort = adminPort
        self.configPath = configPath
    }

    /// The first listener's port.
    var port: Int { ports[0] }

    /// Writes the YAML `config(ports, adminPort)` (`listeners` free ports) to `front.yaml` in
    /// `directory`, starts the front and waits until its first listener and admin port accept connections.
    static func start(
        in directory: TemporaryDirectory, listeners: Int = 1, descriptorLimit: Int? = nil,
        config: (_ ports: [Int], _ adminPort: Int) -> String
    ) async throws -> FrontProcess {
        let ports = (0..<listeners).map { _ in FreePort.next() }
        let port = ports[0]
        let adminPort = FreePort.next()
        let path = try directory.write(config(ports, adminPort), to: "front.yaml")
        let executable = try ExecutableTests.executable()
        let child: ChildProcess
        if let descriptorLimit {
            child = try ChildProcess.launch(
                "prlimit",
                ["--nofile=\(descriptorLimit):\(descriptorLimit)", "--", executable, "run", "--config", path],
                outputDirectory: directory.path, name: "front")
        } else {
            child = try ChildProcess.launch(
                executable, ["run", "--config", path], outputDirectory: directory.path, name: "front")
        }
        let front = FrontProcess(child: child, ports: ports, adminPort: adminPort, configPath: path)
        let up = await PortProbe.waitUntilAccepting(port: port, timeout: .seconds(15)) { child.isRunning }
        var adminUp = false
        if up {
            adminUp = await PortProbe.waitUntilAccepting(port: adminPort, timeout: .seconds(5)) { child.isRunning }
        }
        guard adminUp else {
            let output = child.stderrText()
            await child.stop()
            throw HarnessError("the front did not start: \(output.suffix(3000))")
        }
        return front
    }

    var pid: Int32 { child.pid }
    var isRunning: Bool { child.isRunning }

    /// Rewrites the config file (for SIGHUP reloads).
    func rewrite(_ yaml: String) throws {
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: configPath))
    }

    /// `GET /metrics`.
    func metrics() async throws -> String {
        try await HTTPTestClient.get(port: adminPort, path: "/metrics").body
    }

    /// One metric (summed over samples matching the labels); nil when absent or unreachable.
    func metric(_ name: String, _ labels: [String: String] = [:]) async -> Double? {
        guard let text = try? await metrics() else { return nil }
        return PrometheusText.value(of: name, labels: labels, in: text)
    }

    /// `VmRSS` in KiB.
    var residentKiB: Int? { ProcessMemory.residentKiB(pid: pid) }

    /// User + system CPU time consumed so far, in seconds (`/proc/PID/stat` fields 14 and 15).
    var cpuSeconds: Double? { ProcStat.cpuSeconds(pid: pid) }

    /// Descriptors open in the front now.
    var openDescriptors: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// Everything the front logged so far (text format on standard error).
    var log: String { child.stderrText() }

    /// `session closed` lines, as key=value dictionaries.
    var sessionsClosed: [[String: String]] {
        log.split(separator: "\n").filter { $0.contains("session closed") }.map { line in
            var fields: [String: String] = [:]
            for word in line.split(separator: " ") {
                guard let equals = word.firstIndex(of: "=") else { continue }
                fields[String(word[..<equals])] = String(word[word.index(after: equals)...])
            }
            return fields
        }
    }

    /// How many log lines contain `text`.
    func count(_ text: String) -> Int {
        log.split(separator: "\n").filter { $0.contains(text) }.count
    }

    func stop() async {
        await child.stop(grace: .seconds(5))
    }
}

/// Reads `/proc/PID/stat`.
enum ProcStat {
    /// utime + stime of `pid` in seconds; nil when the process is gone.
    static func cpuSeconds(pid: Int32) -> Double? {
        let text = ChildProcess.readFile("/proc/\(pid)/stat")
        // The command name (field 2) may contain spaces; fields are counted after its closing ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): utime is field 14 -> index 11, stime field 15 -> index 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// A fault, not a broker: a TCP socket that listens and never accepts, reads or writes. The kernel
/// completes handshakes into its accept queue (`backlog` + 1 of them); once that is full, further
/// SYNs are dropped, so dials to it time out. Closed by ``close()``.
final class SilentListener: Sendable {
    let port: Int
    private let descriptor: Int32
    private let fillers = LockedValue<[Int32]>([])
    private let closed = LockedValue(false)

    init(backlog: Int32) throws {
        // A port from FreePort, not port 0: a port-0 listener could take the port of a front's
        // listener while a reload rebinds it, and reset the connections it queued when closed.
        guard let fd = BoundSocket.tcp(port: FreePort.next()) else {
            throw HarnessError("socket/bind: errno \(errno)")
        }
        guard listen(fd, backlog) == 0, let port = BoundSocket.localPort(fd) else {
            Glibc.close(fd)
            throw HarnessError("listen: errno \(errno)")
        }
        descriptor = fd
        self.port = port
    }

    /// Connects `count` sockets of the test's own to it (never used, closed with the listener), so its
    /// accept queue is full and later connects hang in SYN retries.
    func fillAcceptQueue(count: Int) {
        for _ in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { continue }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            fillers.withLock { $0.append(fd) }
        }
    }

    /// Closes the listener and its fillers; once only (a second close could hit a reused number).
    func close() {
        guard
            !closed.withLock({ was in
                defer { was = true }; return was
            })
        else { return }
        for fd in fillers.withLock({ list in
            defer { list.removeAll() }
            return list
        }) {
            Glibc.close(fd)
        }
        Glibc.close(descriptor)
    }
}

/// One run of ``FaultScripts/sessions`` as a child process.
final class SessionScript: Sendable {
    let child: ChildProcess

    private init(child: ChildProcess) { self.child = child }

    /// Writes the script into `directory` (once) and starts it with `arguments`; `name` names its
    /// output files.
    static func start(
        in directory: TemporaryDirectory, name: String, port: Int, _ arguments: [String]
    ) throws -> SessionScript {
        let path = "\(directory.path)/sessions.py"
        if !FileManager.default.fileExists(atPath: path) {
            try directory.write(Self.source, to: "sessions.py")
        }
        let child = try ChildProcess.launch(
            PythonTool.interpreter, [path, "--port", "\(port)", "--prefix", "\(name)-"] + arguments,
            outputDirectory: directory.path, name: name)
        return SessionScript(child: child)
    }

    /// The script text between its marker lines (the Swift literal also documents it).
    static var source: String { FaultScripts.sessions }

    var output: String { child.stdoutText() }

    func records(_ tag: String) -> [[String: String]] { scriptRecords(output, tag: tag) }

    /// The last `tag` line, nil when none yet.
    func last(_ tag: String) -> [String: String]? { records(tag).last }

    /// Waits until a `tag` line appears; returns the first.
    func wait(for tag: String, timeout: Duration) async -> [String: String]? {
        let seen = await Poll.until(timeout: timeout, interval: .milliseconds(50)) { !records(tag).isEmpty }
        return seen ? records(tag).first : nil
    }

    /// SIGUSR1, then waits for a newer `STATS` line; returns it.
    func stats(timeout: Duration = .seconds(5)) async -> [String: String]? {
        let before = records("STATS").count
        child.send(signal: SIGUSR1)
        let seen = await Poll.until(timeout: timeout, interval: .milliseconds(20)) { records("STATS").count > before }
        return seen ? records("STATS").last : nil
    }

    /// SIGUSR2 (stop publishing, wait for echoes, print FINAL, disconnect, exit); returns FINAL.
    func finish(timeout: Duration = .seconds(15)) async -> [String: String]? {
        child.send(signal: SIGUSR2)
        let result = await wait(for: "FINAL", timeout: timeout)
        _ = await child.waitForExit(timeout: .seconds(5))
        return result
    }

    func stop() async { await child.stop(grace: .seconds(2)) }

    var diagnostics: String {
        "exit \(child.exitCode.map(String.init) ?? "none yet"); stdout \(output.suffix(1500)); stderr "
            + "\(child.stderrText().suffix(1500))"
    }
}

extension [String: String] {
    /// An integer field, 0 when absent.
    func int(_ key: String) -> Int { Int(self[key] ?? "") ?? 0 }
}

/// The sanitizer this test process was built with (`swift test --sanitize=thread|address`), nil for a
/// plain build. The `brokerfront` the fault tests start is then the same kind of build (it sits next to
/// the test bundle), so its timings, CPU time and RSS measure the sanitizer as much as the front, and
/// its slowness trips short health-check timeouts: such expectations are only logged then
/// (``expectMeasured(_:_:sourceLocation:)``), while the scenarios still run for the sanitizer to watch.
enum Sanitizer {
    static let active: String? = {
        let runtimes = [("__tsan_init", "thread"), ("__asan_init", "address")]
        for (symbol, name) in runtimes where dlsym(UnsafeMutableRawPointer(bitPattern: 0), symbol) != nil {
            return name
        }
        return nil
    }()
}

/// An expectation about time, CPU, memory or anything a slow front can trip (health-check timeouts):
/// asserted in a plain build, printed when false under a sanitizer.
func expectMeasured(
    _ condition: Bool, _ message: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
    if let sanitizer = Sanitizer.active {
        if !condition { print("under -sanitize=\(sanitizer), not asserted (\(sourceLocation)): \(message())") }
    } else {
        #expect(condition, "\(message())", sourceLocation: sourceLocation)
    }
}

/// The front's exit status after SIGTERM: 0. Under ThreadSanitizer, 66 means it printed race reports
/// (collected through `TSAN_OPTIONS=log_path=...` and reviewed in docs/robustness.md), also accepted.
func expectCleanExit(
    _ status: Int32?, _ log: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation
) {
    let accepted: Set<Int32> = Sanitizer.active == "thread" ? [0, 66] : [0]
    #expect(
        status.map { accepted.contains($0) } == true, "exit \(String(describing: status)): \(log())",
        sourceLocation: sourceLocation)
}
