import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a child process could not be started or did not behave.
public enum ChildProcessError: Error, CustomStringConvertible, Sendable {
    /// No executable of that name on `PATH` (or in the sbin directories servers live in).
    case executableNotFound(String)
    /// `posix_spawn` failed (or the output files could not be created).
    case launchFailed(command: String, reason: String)
    /// The process did not get ready (port not accepting, no answer) in time; carries its output so far.
    case notReady(command: String, output: String)
    /// The process exited while it was expected to run; carries its status and output.
    case exitedEarly(command: String, status: Int32, output: String)

    /// One line saying what failed, with the command and its output.
    public var description: String {
        switch self {
        case .executableNotFound(let name): "executable `\(name)` not found on PATH or in /usr/sbin, /usr/local/sbin"
        case .launchFailed(let command, let reason): "could not start `\(command)`: \(reason)"
        case .notReady(let command, let output): "`\(command)` did not get ready in time; output:\n\(output)"
        case .exitedEarly(let command, let status, let output):
            "`\(command)` exited with status \(status) while it should run; output:\n\(output)"
        }
    }
}

/// A process a test started, with its standard output and error captured to files.
///
/// Spawned with `posix_spawn` and an empty signal mask: the async caller runs on a dispatch worker
/// thread that blocks most signals, and Foundation's `Process` passes that mask on, so mosquitto and
/// redis-server would never see SIGTERM. Output goes to files rather than pipes, so nothing has to drain
/// a pipe while the child runs and the text can be read at any time. The exit status is collected with
/// `waitpid(WNOHANG)` polls, so no thread ever blocks. The child inherits no descriptor beyond 0–2
/// (NIO's sockets are not close-on-exec). Only this child is ever signalled, by its PID; children still
/// running when the test process exits are killed then. Thread-safe.
public final class ChildProcess: Sendable {
    /// The full path that was run.
    public let executablePath: String
    /// The arguments, without the executable.
    public let arguments: [String]
    /// The child's process id.
    public let pid: Int32
    /// Where standard output is captured.
    public let stdoutPath: String
    /// Where standard error is captured.
    public let stderrPath: String
    /// Set once, when `waitpid` reaped the child.
    private let exitStatus = Locked<Int32?>(nil)

    private init(executablePath: String, arguments: [String], pid: Int32, stdoutPath: String, stderrPath: String) {
        self.executablePath = executablePath
        self.arguments = arguments
        self.pid = pid
        self.stdoutPath = stdoutPath
        self.stderrPath = stderrPath
    }

    /// Starts `executable` (a path, or a name looked up on `PATH`) with `arguments`; output files are
    /// created in `directory` as `NAME.stdout` / `NAME.stderr`. Standard input is `/dev/null`; every
    /// signal has its default action and none is blocked.
    public static func launch(
        _ executable: String,
        _ arguments: [String],
        outputDirectory directory: String,
        name: String? = nil,
        environment: [String: String]? = nil
    ) throws -> ChildProcess {
        let path = try ExecutableLocator.find(executable)
        let base = name ?? URL(fileURLWithPath: path).lastPathComponent
        let stdoutPath = "\(directory)/\(base).stdout"
        let stderrPath = "\(directory)/\(base).stderr"
        var env = ProcessInfo.processInfo.environment
        if let environment { env.merge(environment) { _, new in new } }
        let pid = try spawn(
            path: path, arguments: arguments, environment: env.map { "\($0.key)=\($0.value)" },
            stdoutPath: stdoutPath, stderrPath: stderrPath)
        LiveChildren.shared.add(pid)
        return ChildProcess(
            executablePath: path, arguments: arguments, pid: pid, stdoutPath: stdoutPath, stderrPath: stderrPath)
    }

    /// `executable arg1 arg2 ...`, for messages.
    public var commandLine: String {
        ([executablePath] + arguments).joined(separator: " ")
    }

    /// The exit status once the child has exited, else nil. A child ended by a signal reports
    /// 128 + the signal number, as a shell does (143 for SIGTERM, 137 for SIGKILL).
    public var exitCode: Int32? {
        exitStatus.withLock { code in
            if code == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    let signal = status & 0x7F
                    code = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
                    LiveChildren.shared.remove(pid)
                }
            }
            return code
        }
    }

    /// Whether the child still runs.
    public var isRunning: Bool { exitCode == nil }

    /// Sends `signal` (e.g. `SIGTERM`, `SIGHUP`) to the child, unless it has already been reaped
    /// (so the PID can never belong to another process).
    public func send(signal: Int32) {
        guard isRunning else { return }
        kill(pid, signal)
    }

    /// Waits until the child exits or `timeout` passes; its exit status, or nil on timeout.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let code = exitCode { return code }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Stops the child: SIGTERM, then SIGKILL if it still runs after `grace`. Returns its exit status
    /// (nil only if even SIGKILL did not end it within 2 s, which would be a kernel problem).
    @discardableResult
    public func stop(grace: Duration = .seconds(2)) async -> Int32? {
        send(signal: SIGTERM)
        if let code = await waitForExit(timeout: grace) { return code }
        send(signal: SIGKILL)
        return await waitForExit(timeout: .seconds(2))
    }

    /// Standard output written so far.
    public func stdoutText() -> String {
        Self.read(stdoutPath)
    }

    /// Standard error written so far.
    public func stderrText() -> String {
        Self.read(stderrPath)
    }

    /// Waits until standard output or error (per `stream`) contains `text`; false on timeout.
    public func waitForOutput(
        containing text: String, in stream: OutputStream = .stderr, timeout: Duration
    ) async -> Bool {
        await Poll.until(timeout: timeout) {
            (stream == .stdout ? stdoutText() : stderrText()).contains(text)
        }
    }

    /// Which captured stream to look at.
    public enum OutputStream: Sendable {
        /// Standard output.
        case stdout
        /// Standard error.
        case stderr
    }

    /// The text of a file, empty when it is missing. Plain `open`/`read`: the files read here grow
    /// while they are read (logs) or report size 0 (/proc), and FoundationEssentials'
    /// `FileManager.contents(atPath:)` leaks its buffer on such files (LeakSanitizer, Swift 6.3.1).
    public static func read(_ path: String) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return "" }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                bytes.append(contentsOf: chunk[0..<count])
            } else if count < 0, errno == EINTR {
                continue
            } else {
                break
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `posix_spawn` with stdin from /dev/null, stdout/stderr to (truncated) files, default signal
    /// actions and an empty signal mask.
    private static func spawn(
        path: String, arguments: [String], environment: [String], stdoutPath: String, stderrPath: String
    ) throws(ChildProcessError) -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let flags = O_WRONLY | O_CREAT | O_TRUNC
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, flags, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, flags, 0o644)
        // NIO's sockets are not close-on-exec: a child that inherited a test client's or the front's
        // socket would keep that connection open after the test closed it.
        closeInheritedDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw .launchFailed(command: path, reason: String(cString: strerror(result)))
        }
        return pid
    }
}

/// Children started and not yet reaped, killed (SIGKILL, by PID) when the test process exits, so a
/// test that forgot to stop a server (or stopped it from a task that never ran) leaves no orphan.
final class LiveChildren: Sendable {
    static let shared: LiveChildren = {
        let children = LiveChildren()
        atexit {
            for pid in LiveChildren.shared.pids.value {
                kill(pid, SIGKILL)
            }
        }
        return children
    }()

    private let pids = Locked<Set<Int32>>([])

    func add(_ pid: Int32) {
        pids.withLock { _ = $0.insert(pid) }
    }

    func remove(_ pid: Int32) {
        pids.withLock { _ = $0.remove(pid) }
    }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does not
/// export; looked up once.
private let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
    else { return nil }
    return unsafeBitCast(
        symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

/// Makes the child close every descriptor from 3 up: with `closefrom` when glibc has it, else one
/// close action per descriptor open now (glibc ignores closing one that is gone by then).
private func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
    if let addCloseFrom, addCloseFrom(&actions, 3) == 0 { return }
    let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    for descriptor in open.compactMap({ Int32($0) }) where descriptor > 2 {
        posix_spawn_file_actions_addclose(&actions, descriptor)
    }
}

/// Finds executables the way a shell would, plus the sbin directories daemons are installed in.
enum ExecutableLocator {
    static func find(_ name: String) throws(ChildProcessError) -> String {
        let manager = FileManager.default
        if name.contains("/") {
            guard manager.isExecutableFile(atPath: name) else { throw .executableNotFound(name) }
            return name
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        for directory in directories where manager.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw .executableNotFound(name)
    }
}
