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
            .bind(host: "127.0.0.1", port: 0).get()
    }

    static func autoRead(_ channel: any Channel) async throws -> Bool {
        try await channel.getOption(ChannelOptions.autoRead).get()
    }

    @Test("EMFILE stops reading, the back-off resumes it and doubles, an accept resets it; other errors pass on")
    func pauseAndResume() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let sink = ErrorSink()
        let channel = try await Self.listener(group: group, sink: sink)
        let clock = ContinuousClock()

        // First shortage: read interest dropped at once, back on after ~100 ms.
        let start = clock.now
        channel.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept"))
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await Self.autoRead(channel) == false)
        while try await !Self.autoRead(channel) { try await Task.sleep(for: .milliseconds(5)) }
        let first = clock.now - start
        #expect(first >= .milliseconds(95) && first < .milliseconds(600), "\(first)")

        // Second in a row: 200 ms.
        let again = clock.now
        channel.pipeline.fireErrorCaught(IOError(errnoCode: ENFILE, reason: "accept"))
        try await Task.sleep(for: .milliseconds(120))
        #expect(try await Self.autoRead(channel) == false)
        while try await !Self.autoRead(channel) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(clock.now - again >= .milliseconds(195))
        #expect(sink.errors.load(ordering: .relaxed) == 0)

        // Accepting works after the resume, and an accepted connection resets the back-off.
        let client = try await ClientBootstrap(group: group).connect(to: channel.localAddress!).get()
        while sink.accepted.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let reset = clock.now
        channel.pipeline.fireErrorCaught(IOError(errnoCode: EMFILE, reason: "accept"))
        try await Task.sleep(for: .milliseconds(20))
        while try await !Self.autoRead(channel) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(clock.now - reset < .milliseconds(190))

        // Not a shortage: passed on, reading untouched.
        channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNABORTED, reason: "accept"))
        try await Task.sleep(for: .milliseconds(20))
        #expect(sink.errors.load(ordering: .relaxed) == 1)
        #expect(try await Self.autoRead(channel))

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

    @Test("the session cap never exceeds what the descriptors hold")
    func effectiveCap() {
        let fit = FileDescriptorLimit.sessionsThatFitNow()
        #expect(fit > 0)
        #expect(FileDescriptorLimit.effectiveCap(configured: 0) == fit)
        #expect(FileDescriptorLimit.effectiveCap(configured: 5) == min(5, fit))
        #expect(FileDescriptorLimit.effectiveCap(configured: Int.max) == fit)
    }
}
