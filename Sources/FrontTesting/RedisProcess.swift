import Foundation

/// A real redis-server on 127.0.0.1, started for one test and stopped by it.
///
/// No persistence (`--save ''`, `--appendonly no`), protected mode off, working directory and log
/// (its standard output) in a fresh temporary directory. Optionally a replica of another one. Thread-safe.
public final class RedisProcess: Sendable {
    /// The port it listens on (127.0.0.1 only).
    public let port: Int
    /// The directory holding its working files and log.
    public let directory: TemporaryDirectory
    private let child: ChildProcess

    private init(port: Int, directory: TemporaryDirectory, child: ChildProcess) {
        self.port = port
        self.directory = directory
        self.child = child
    }

    /// The server's process id.
    public var pid: Int32 { child.pid }

    /// Whether the server process still runs.
    public var isRunning: Bool { child.isRunning }

    /// Starts redis-server on `port` (a free one when nil), as a replica of `127.0.0.1:replicaOf` when
    /// given, and waits (up to `timeout`) until it answers `PING` with `+PONG`.
    ///
    /// - Throws: ``ChildProcessError`` when redis-server is missing, exits, or does not answer in time.
    public static func start(port: Int? = nil, replicaOf: Int? = nil, timeout: Duration = .seconds(5)) async throws
        -> RedisProcess
    {
        var lastError: (any Error)?
        for _ in 0..<(port == nil ? 3 : 1) {
            do {
                return try await startOnce(port: port ?? FreePort.next(), replicaOf: replicaOf, timeout: timeout)
            } catch let error as ChildProcessError {
                if case .exitedEarly = error {
                    lastError = error
                    continue
                }
                throw error
            }
        }
        throw lastError ?? ChildProcessError.notReady(command: "redis-server", output: "")
    }

    private static func startOnce(port: Int, replicaOf: Int?, timeout: Duration) async throws -> RedisProcess {
        let directory = try TemporaryDirectory(prefix: "redis-\(port)")
        var arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--protected-mode", "no", "--daemonize", "no", "--dir", directory.path, "--logfile", "",
        ]
        if let replicaOf { arguments += ["--replicaof", "127.0.0.1", "\(replicaOf)"] }
        let child: ChildProcess
        do {
            child = try ChildProcess.launch("redis-server", arguments, outputDirectory: directory.path)
        } catch {
            directory.remove()
            throw error
        }
        let ready = await Poll.until(timeout: timeout, interval: .milliseconds(25)) {
            guard child.isRunning else { return true }
            return await ping(port: port)
        }
        guard ready, child.isRunning else {
            let exited = !child.isRunning
            let output = child.stdoutText() + child.stderrText()
            let status = await child.stop()
            directory.remove()
            if exited {
                throw ChildProcessError.exitedEarly(command: child.commandLine, status: status ?? -1, output: output)
            }
            throw ChildProcessError.notReady(command: child.commandLine, output: output)
        }
        return RedisProcess(port: port, directory: directory, child: child)
    }

    /// Whether a redis server on `port` answers `PING` with `+PONG` (a RESP exchange on a raw connection).
    public static func ping(port: Int, timeout: Duration = .milliseconds(500)) async -> Bool {
        guard let client = try? await TestClient.connect(port: port, timeout: timeout) else { return false }
        var answer: [UInt8]?
        if (try? await client.send("*1\r\n$4\r\nPING\r\n")) != nil {
            answer = try? await client.read(until: Array("\r\n".utf8), timeout: timeout)
        }
        await client.close()
        return answer == Array("+PONG\r\n".utf8)
    }

    /// Stops the server (SIGTERM, SIGKILL after 2 s) and deletes its directory. Safe to call twice.
    public func stop() async {
        await child.stop()
        directory.remove()
    }

    /// Stops the server but keeps its directory; ``stop()`` later removes it.
    public func kill() async {
        await child.stop()
    }

    /// The server's log (its standard output) so far.
    public func logText() -> String {
        child.stdoutText()
    }

    /// Runs `redis-cli -h 127.0.0.1 -p PORT ARGS...` and returns its output without the final newline.
    ///
    /// - Throws: ``CommandTimedOutError`` after 5 s, or ``RedisCommandError`` on a non-zero exit.
    public func command(_ arguments: [String]) async throws -> String {
        try await Self.command(port: port, arguments)
    }

    /// `redis-cli` against any port (e.g. a front listener in front of redis).
    public static func command(host: String = "127.0.0.1", port: Int, _ arguments: [String]) async throws -> String {
        let result = try await CommandLineTool.run(
            "redis-cli", ["-h", host, "-p", "\(port)"] + arguments, timeout: .seconds(5))
        guard result.status == 0 else {
            throw RedisCommandError(arguments: arguments, status: result.status, output: result.stdout + result.stderr)
        }
        var output = result.stdout
        while output.hasSuffix("\n") { output.removeLast() }
        return output
    }
}

/// `redis-cli` exited with a non-zero status.
public struct RedisCommandError: Error, CustomStringConvertible, Sendable {
    /// The redis-cli arguments after host and port.
    public var arguments: [String]
    /// Its exit status.
    public var status: Int32
    /// Its standard output and error.
    public var output: String

    /// One line with the command, status and output.
    public var description: String {
        "redis-cli \(arguments.joined(separator: " ")) exited \(status): \(output)"
    }
}
