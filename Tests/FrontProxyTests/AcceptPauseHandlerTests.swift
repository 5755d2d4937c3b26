import FrontTesting
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import FrontProxy

#if canImport(Glibc)
    import Glibc
#endif

/// A real listening socket with the pause handler; accept errors are injected into its pipeline
/// (running a whole process out of descriptors is the fault test's job).
@Suite("Accept pause at EMFILE")
struct AcceptPauseHandlerTests {
    /// Counts errors that reach the end of the pipeline.
    final class ErrorSink: ChannelInboundHandler, Sendable {
        typealias InboundIn = any Channel
        let errors = Atomic<Int>(0)
        let accepted = Atomic<Int>(0)
        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            errors.add(1, ordering: .relaxed)
        }
    }

    static func listener(
        group: MultiThreadedEventLoopGroup, sink: ErrorSink
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        AcceptPauseHandler(name: "test", logger: Logger(label: "test")))
                    try channel.pipeline.syncOperations.addHandler(sink)
                }
            }
            .childChannelInitializer { channel in
                sink.accepted.add(1, ordering: .relaxed)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: FreePort.next()).get()
    }

    static func autoRead(_ channel: any Channel) async throws -> Bool {
        try await channel.getOption(ChannelOptions.autoRead).get()
    }

    /// The back-off the handler will use for its next pause.
    static func nextBackoff(_ channel: any Channel) async throws -> TimeAmount {
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: AcceptPauseHandler.self).nextBackoff
        }.get()
    }

    /// Waits (bounded) until the listener reads again.
    static func waitForResume(_ channel: any Channel) async throws {
        let resumed = try await Poll.until(timeout: .seconds(30), interval: .milliseconds(5)) {
            try await autoRead(channel)
        }
        #expect(resumed, "the listener never resumed")
    }

    @Test("EMFILE stops reading, the back-off resumes it and doubles, an accept resets it; other errors pass on")
    func pauseAndResume() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let sink = ErrorSink()
        let channel = try await Self.listener(group: group, sink: sink)
        #expect(try await Self.nextBackoff(channel) == .milliseconds(100))

        // First shortage: read interest dropped at once (the pause lasts 100 ms), then back on.
        channel.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept"))
        #expect(try await Self.autoRead(channel) == false)
        #expect(try await Self.nextBackoff(channel) == .milliseconds(200))
        try await Self.waitForResume(channel)

        // Second in a row: doubles, up to 1 s.
        channel.pipeline.fireErrorCaught(IOError(errnoCode: ENFILE, reason: "accept"))
        #expect(try await Self.autoRead(channel) == false)
        #expect(try await Self.nextBackoff(channel) == .milliseconds(400))
        try await Self.waitForResume(channel)
        #expect(sink.errors.load(ordering: .relaxed) == 0)

        // Accepting works after the resume, and an accepted connection resets the back-off.
        let client = try await ClientBootstrap(group: group).connect(to: channel.localAddress!).get()
        _ = await Poll.until(timeout: .seconds(30), interval: .milliseconds(5)) {
            sink.accepted.load(ordering: .relaxed) > 0
        }
        #expect(sink.accepted.load(ordering: .relaxed) == 1)
        #expect(try await Self.nextBackoff(channel) == .milliseconds(100))

        // Not a shortage: passed on, reading untouched.
        channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNABORTED, reason: "accept"))
        #expect(try await Self.autoRead(channel))
        #expect(sink.errors.load(ordering: .relaxed) == 1)

        try await client.close()
        try await channel.close()
        try await group.shutdownGracefully()
    }

    @Test("only resource shortages count")
    func classification() {
        for code in [EMFILE, ENFILE, ENOBUFS, ENOMEM] {
            #expect(AcceptPauseHandler.isResourceShortage(IOError(errnoCode: code, reason: "accept")))
        }
        #expect(!AcceptPauseHandler.isResourceShortage(IOError(errnoCode: ECONNABORTED, reason: "accept")))
        #expect(!AcceptPauseHandler.isResourceShortage(ChannelError.ioOnClosedChannel))
    }
}
