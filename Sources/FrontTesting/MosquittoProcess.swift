import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A real mosquitto broker on 127.0.0.1, started for one test and stopped by it.
///
/// Its config lives in a fresh temporary directory; it logs everything (`log_type all`, connection
/// messages on) to `mosquitto.log` there, which mosquitto flushes after each line, so the log can be
/// read while it runs. Thread-safe.
public final class MosquittoProcess: Sendable {
    /// The port it listens on (127.0.0.1 only).
    public let port: Int
    /// The directory holding its config and log.
    public let directory: TemporaryDirectory
    private let child: ChildProcess

    private init(port: Int, directory: TemporaryDirectory, child: ChildProcess) {
        self.port = port
        self.directory = directory
        self.child = child
    }

    /// The broker's process id.
    public var pid: Int32 { child.pid }

    /// Whether the broker process still runs.
    public var isRunning: Bool { child.isRunning }

    /// Path of its log file.
    public var logPath: String { "\(directory.path)/mosquitto.log" }

    /// Starts mosquitto on `port` (a free one when nil), with `extraConfig` lines appended to the
    /// usual test config, and waits (up to `timeout`) until it accepts TCP connections. With an
    /// automatic port, a start that loses the port to another process is retried on a new one.
    ///
    /// - Throws: ``ChildProcessError`` when mosquitto is missing, exits, or does not listen in time.
    public static func start(
        port: Int? = nil, extraConfig: [String] = [], timeout: Duration = .seconds(5)
    ) async throws -> MosquittoProcess {
        var lastError: (any Error)?
        for _ in 0..<(port == nil ? 3 : 1) {
            do {
                return try await startOnce(port: port ?? FreePort.next(), extraConfig: extraConfig, timeout: timeout)
            } catch let error as ChildProcessError {
                if case .exitedEarly = error {
                    lastError = error
                    continue
                }
                throw error
            }
        }
        throw lastError ?? ChildProcessError.notReady(command: "mosquitto", output: "")
    }

    private static func startOnce(
        port: Int, extraConfig: [String], timeout: Duration
    ) async throws -> MosquittoProcess {
        let directory = try TemporaryDirectory(prefix: "mosquitto-\(port)")
        var config = """
            listener \(port) 127.0.0.1
            allow_anonymous true
            persistence false
            log_dest file \(directory.path)/mosquitto.log
            log_type all
            connection_messages true

            """
        // Started as root, mosquitto switches to user `mosquitto` before opening its log file, which it
        // then may not create in our directory; staying root avoids that (it only warns).
        if geteuid() == 0 { config += "user root\n" }
        for line in extraConfig { config += line + "\n" }
        let configPath = try directory.write(config, to: "mosquitto.conf")
        let child: ChildProcess
        do {
            child = try ChildProcess.launch("mosquitto", ["-c", configPath], outputDirectory: directory.path)
        } catch {
            directory.remove()
            throw error
        }
        let process = MosquittoProcess(port: port, directory: directory, child: child)
        let up = await PortProbe.waitUntilAccepting(port: port, timeout: timeout) { child.isRunning }
        guard up else {
            let exited = !child.isRunning
            let output = child.stderrText() + child.stdoutText() + process.logText()
            let status = await child.stop()
            directory.remove()
            if exited {
                // Most likely the port was taken meanwhile ("Address already in use"): worth a retry.
                throw ChildProcessError.exitedEarly(command: child.commandLine, status: status ?? -1, output: output)
            }
            throw ChildProcessError.notReady(command: child.commandLine, output: output)
        }
        return process
    }

    /// Stops the broker (SIGTERM, SIGKILL after 2 s) and deletes its directory. Safe to call twice.
    public func stop() async {
        await child.stop()
        directory.remove()
    }

    /// Stops the broker but keeps its directory, so the log stays readable (e.g. to stop a broker in
    /// the middle of a test and still inspect it). ``stop()`` later removes the directory.
    public func kill() async {
        await child.stop()
    }

    /// The whole log so far.
    public func logText() -> String {
        ChildProcess.read(logPath)
    }

    /// Every `New client connected from ADDR as ID (...)` line so far, in order: `address` is
    /// `ip:port` as the broker saw it, `clientID` the identifier it accepted.
    public func clientsConnected() -> [(clientID: String, address: String)] {
        Self.parseClientsConnected(logText())
    }

    /// Waits until the log contains `text`; false on timeout.
    public func waitForLog(containing text: String, timeout: Duration = .seconds(5)) async -> Bool {
        await Poll.until(timeout: timeout) { logText().contains(text) }
    }

    /// Parses mosquitto 2.0 connection lines: `... New client connected from 127.0.2.1:41234 as dev-1 (p2, c1, k60).`
    public static func parseClientsConnected(_ log: String) -> [(clientID: String, address: String)] {
        let marker = "New client connected from "
        var result: [(clientID: String, address: String)] = []
        for line in log.split(separator: "\n") {
            guard let start = line.range(of: marker)?.upperBound else { continue }
            let rest = line[start...]
            guard let asRange = rest.range(of: " as "),
                let end = rest.range(of: " (p", options: .backwards)
            else { continue }
            let address = String(rest[..<asRange.lowerBound])
            let clientID = String(rest[asRange.upperBound..<end.lowerBound])
            result.append((clientID, address))
        }
        return result
    }
}
