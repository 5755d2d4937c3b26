import NIOCore
import NIOPosix

/// A raw TCP client for tests: send bytes, read exactly what is expected within a deadline, and see
/// when (and whether) the peer closed.
///
/// Built on NIO: a ``TestClientHandler`` on the channel's event loop buffers what arrives; the async
/// methods hop onto that loop and wait on promises with scheduled timeouts, so no thread ever blocks
/// and every wait is bounded. Bytes beyond what a read asked for stay buffered for the next read.
/// Thread-safe; reads must not overlap (a second concurrent read fails with `concurrentRead`).
public final class TestClient: Sendable {
    /// The connected channel.
    public let channel: any Channel
    private let handler: NIOLoopBound<TestClientHandler>

    private init(channel: any Channel, handler: NIOLoopBound<TestClientHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Connects to `host:port`, from `sourceIP` when given (any local address, e.g. `127.0.2.1`).
    ///
    /// `first` is written on the event loop the moment the connection is up, before this returns to
    /// the calling task: a test whose peer has a short deadline for the first bytes (a listener's
    /// `connect_timeout`) then does not depend on how soon a busy task pool resumes it. If the peer
    /// closed before those bytes went out, the connection is returned anyway and the next read
    /// reports the close.
    ///
    /// - Throws: NIO's connect error (e.g. connection refused) or a timeout after `timeout`.
    public static func connect(
        host: String = "127.0.0.1",
        port: Int,
        bindTo sourceIP: String? = nil,
        sending first: [UInt8] = [],
        timeout: Duration = .seconds(3),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> TestClient {
        let loop = group.next()
        let handler = try await loop.submit { NIOLoopBound(TestClientHandler(), eventLoop: loop) }.get()
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(handler.value)
                }
            }
        if let sourceIP {
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceIP, port: 0))
        }
        var connecting = bootstrap.connect(host: host, port: port)
        if !first.isEmpty {
            connecting = connecting.flatMap { channel in
                channel.writeAndFlush(ByteBuffer(bytes: first)).recover { _ in }.map { channel }
            }
        }
        return TestClient(channel: try await connecting.get(), handler: handler)
    }

    /// The local address the connection uses (`127.0.2.1:41234`).
    public var localAddress: String {
        guard let address = channel.localAddress else { return "-" }
        return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    /// Writes and flushes `bytes`.
    public func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Writes and flushes the UTF-8 of `text`.
    public func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    /// Exactly `count` bytes; surplus stays buffered for the next read.
    ///
    /// - Throws: ``TestClientError/timedOut(received:)`` or ``TestClientError/closed(received:)``.
    public func read(count: Int, timeout: Duration) async throws -> [UInt8] {
        try await wait(for: .count(count), timeout: timeout)
    }

    /// Everything up to and including the first `delimiter` (e.g. `\r\n\r\n` after HTTP headers).
    public func read(until delimiter: [UInt8], timeout: Duration) async throws -> [UInt8] {
        try await wait(for: .delimiter(delimiter), timeout: timeout)
    }

    /// Everything the peer sends until it closes; throws ``TestClientError/timedOut(received:)`` if it
    /// is still open after `timeout`.
    public func readUntilClose(timeout: Duration) async throws -> [UInt8] {
        try await wait(for: .close, timeout: timeout)
    }

    /// Bytes received and not yet read, without waiting (they stay buffered).
    public func buffered() async throws -> [UInt8] {
        let handler = self.handler
        return try await channel.eventLoop.submit { handler.value.buffered }.get()
    }

    /// True if the peer closed within `timeout` (at once if it already had), false otherwise.
    public func waitForClose(timeout: Duration) async -> Bool {
        let handler = self.handler
        let loop = channel.eventLoop
        let future = loop.flatSubmit { handler.value.waitForClose(timeout: TimeAmount(timeout), on: loop) }
        return (try? await future.get()) ?? true
    }

    /// When the connection came up, taken on the event loop (a task may resume much later).
    public func connectedAt() async -> ContinuousClock.Instant? {
        let handler = self.handler
        return try? await channel.eventLoop.submit { handler.value.connectedAt }.get()
    }

    /// When the connection closed (peer close, reset or our own close); nil while open.
    public func closedAt() async -> ContinuousClock.Instant? {
        let handler = self.handler
        return try? await channel.eventLoop.submit { handler.value.closedAt }.get()
    }

    /// The error the connection ended with (e.g. a reset, ECONNRESET), nil for a clean FIN or while open.
    public func closedWithError() async -> String? {
        let handler = self.handler
        let error = try? await channel.eventLoop.submit { handler.value.closeError.map { "\($0)" } }.get()
        return error ?? nil
    }

    /// Half-closes: sends FIN (`shutdown(SHUT_WR)`) and keeps reading.
    public func shutdownOutput() async throws {
        try await channel.close(mode: .output)
    }

    /// Closes the connection; does nothing if it is already closed.
    public func close() async {
        try? await channel.close()
    }

    private func wait(for want: TestClientHandler.Want, timeout: Duration) async throws -> [UInt8] {
        let handler = self.handler
        let loop = channel.eventLoop
        return try await loop.flatSubmit {
            handler.value.wait(for: want, timeout: TimeAmount(timeout), on: loop)
        }.get()
    }
}
