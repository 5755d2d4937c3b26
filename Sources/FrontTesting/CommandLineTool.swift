import Foundation

/// A command run to completion took longer than allowed and was killed.
public struct CommandTimedOutError: Error, CustomStringConvertible, Sendable {
    /// The command line.
    public var command: String
    /// The time it was given.
    public var timeout: Duration
    /// What it wrote to standard output before it was killed.
    public var stdout: String
    /// What it wrote to standard error before it was killed.
    public var stderr: String

    /// One line naming the command and the timeout, with its output.
    public var description: String {
        "`\(command)` did not finish within \(timeout) and was killed; stdout: \(stdout) stderr: \(stderr)"
    }
}

/// Runs command-line tools (`mosquitto_pub`, `mosquitto_sub`, `redis-cli`, `ss`, the brokerfront binary)
/// to completion and returns what they printed.
public enum CommandLineTool {
    /// Runs `executable` (a path, or a name looked up on `PATH`) with `arguments` and waits until it exits.
    ///
    /// - Returns: the exit status (the signal number if a signal ended it) and both outputs.
    /// - Throws: ``CommandTimedOutError`` after killing the child (SIGTERM, SIGKILL 1 s later) when it
    ///   runs longer than `timeout`; ``ChildProcessError`` when it cannot be started.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        timeout: Duration,
        environment: [String: String]? = nil
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let directory = try TemporaryDirectory(prefix: "cmd")
        defer { directory.remove() }
        let child = try ChildProcess.launch(
            executable, arguments, outputDirectory: directory.path, name: "out", environment: environment)
        guard let status = await child.waitForExit(timeout: timeout) else {
            await child.stop(grace: .seconds(1))
            throw CommandTimedOutError(
                command: child.commandLine, timeout: timeout, stdout: child.stdoutText(), stderr: child.stderrText())
        }
        return (status, child.stdoutText(), child.stderrText())
    }
}
