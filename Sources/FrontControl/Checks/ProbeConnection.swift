import FrontCore
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// One short-lived health-check connection on NIO, used from async code: connect (bound to the
/// server's source IP like real sessions), send, read until a reader is satisfied, close.
/// Owned by one check task; callers bound the whole exchange with a timeout.
struct ProbeConnection {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// Connects to `server`, binding to `sourceIP` when given.
    static func open(
        to server: ServerRuntime, from sourceIP: String?, timeout: Duration, group: any EventLoopGroup
    ) async throws -> ProbeConnection {
        var bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(clamping: timeout.nanosecondsClamped)))
        if let sourceIP {
            bootstrap = bootstrap.channelOption(
                ChannelOptions.Types.SocketOption(level: .init(IPPROTO_IP), name: 24), value: 1
            ).bind(to: try SocketAddress(ipAddress: sourceIP, port: 0))
        }
        let address = server.config.address
        let wrap: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        // An IP literal is dialed directly (no resolver, plain errors); names go through NIO's resolver.
        if let literal = try? SocketAddress(ipAddress: address.host, port: address.port) {
            return ProbeConnection(channel: try await bootstrap.connect(to: literal, channelInitializer: wrap))
        }
        return ProbeConnection(
            channel: try await bootstrap.connect(host: address.host, port: address.port, channelInitializer: wrap))
    }

    /// Runs `body` with the connection's inbound stream and writer, then closes it.
    func exchange<Result: Sendable>(
        _ body: (Exchange) async throws -> Result
    ) async throws -> Result {
        try await channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            let exchange = Exchange(outbound: outbound, next: { try await iterator.next() })
            return try await body(exchange)
        }
    }

    /// The two halves of a probe conversation.
    struct Exchange {
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        let next: () async throws -> ByteBuffer?

        func send(_ bytes: [UInt8]) async throws {
            try await outbound.write(ByteBuffer(bytes: bytes))
        }

        /// Reads until `reader` returns a value; nil from `reader` means "need more". Throws
        /// `ProbeError.closed` when the server closes first.
        func receive<Value>(_ reader: ([UInt8]) -> Value?) async throws -> Value {
            var received: [UInt8] = []
            while true {
                if let value = reader(received) { return value }
                guard var buffer = try await next() else { throw ProbeError.closed(received.count) }
                received += buffer.readBytes(length: buffer.readableBytes) ?? []
                if received.count > 1 << 20 { throw ProbeError.tooLong }
            }
        }
    }
}

/// Why a probe failed before the server answered.
enum ProbeError: Error, CustomStringConvertible {
    case closed(Int)
    case tooLong
    case timeout

    var description: String {
        switch self {
        case .closed(let count): return count == 0 ? "closed without answering" : "closed after \(count) bytes"
        case .tooLong: return "answer longer than 1 MiB"
        case .timeout: return "timeout"
        }
    }
}
