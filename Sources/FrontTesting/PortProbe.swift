import NIOCore
import NIOPosix

/// Checks whether a TCP port accepts connections, for "is the server up yet" waits.
public enum PortProbe {
    /// Whether a connect to `host:port` succeeds within `timeout` (the probe connection is closed at once).
    public static func accepts(host: String = "127.0.0.1", port: Int, timeout: Duration = .milliseconds(250)) async
        -> Bool
    {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(TimeAmount(timeout))
        guard let channel = try? await bootstrap.connect(host: host, port: port).get() else { return false }
        try? await channel.close()
        return true
    }

    /// Waits until `host:port` accepts connections; false after `timeout` or as soon as `stillRunning`
    /// says the server process is gone.
    public static func waitUntilAccepting(
        host: String = "127.0.0.1",
        port: Int,
        timeout: Duration,
        stillRunning: @Sendable () -> Bool = { true }
    ) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await accepts(host: host, port: port) { return true }
            if !stillRunning() { return false }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return false
    }
}
