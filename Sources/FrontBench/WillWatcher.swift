import NIOCore
import NIOPosix

import struct NIOConcurrencyHelpers.NIOLockedValueBox

/// Counts the Will messages brokers publish: one plain MQTT 3.1.1 subscriber per broker on `PREFIX/#`,
/// connected to the brokers directly (not through the proxy under test).
///
/// Its connections keep their own ``BenchStats``: `received` is the Will count, `subscribed` the brokers
/// watched. Callable from any thread; ``stop()`` must not be called on an event loop.
public final class WillWatcher: Sendable {
    /// The brokers watched.
    public let brokers: [BenchEndpoint]
    /// The Will topic prefix; the watcher subscribes to `PREFIX/#`.
    public let topicPrefix: String
    private let stats = BenchStats()
    private let channels = NIOLockedValueBox<[any Channel]>([])

    /// Prepares a watcher; nothing connects until ``start(on:)``.
    public init(brokers: [BenchEndpoint], topicPrefix: String) {
        self.brokers = brokers
        self.topicPrefix = topicPrefix
    }

    /// Will messages received so far, over all brokers.
    public var wills: Int { stats.received.load(ordering: .relaxed) }

    /// Brokers whose subscription is acknowledged.
    public var subscribed: Int { stats.subscribed.load(ordering: .relaxed) }

    /// Brokers the watcher could not connect to (TCP error, refusal, timeout, close before CONNACK).
    public var failed: Int { stats.failed.load(ordering: .relaxed) }

    /// Starts one connection per broker on `group`; returns at once (see ``subscribed`` and ``failed``).
    public func start(on group: any EventLoopGroup) {
        let settings = {
            var settings = BenchClientSettings()
            settings.connAckTimeout = .seconds(5)
            return settings
        }()
        let topic = "\(topicPrefix)/#"
        for (index, broker) in brokers.enumerated() {
            let stats = self.stats
            let startedAt = BenchClock.now()
            stats.recordStart(at: startedAt)
            let onConnected: @Sendable (any Channel) -> Void = { [self] channel in
                self.channels.withLockedValue { $0.append(channel) }
            }
            ClientBootstrap(group: group)
                .connectTimeout(.seconds(5))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = BenchClientHandler(
                            settings: settings, clientID: "bench-willwatch-\(index)", role: .subscriber(topic: topic),
                            stats: stats, link: nil, startedAt: startedAt, onConnected: onConnected)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
                .connect(host: broker.host, port: broker.port)
                .whenFailure { _ in stats.recordFailure(.connect) }
        }
    }

    /// Sends DISCONNECT on every watcher connection and waits for the closes (local closes: they complete).
    public func stop() {
        let open = channels.withLockedValue { all in
            defer { all.removeAll() }
            return all
        }
        guard let loop = open.first?.eventLoop else { return }
        let closes = open.map { channel in
            channel.pipeline.fireUserInboundEventTriggered(PublishCommand.disconnect)
            return channel.closeFuture
        }
        _ = try? EventLoopFuture.andAllComplete(closes, on: loop)
            .flatMapError { _ in loop.makeSucceededVoidFuture() }.wait()
    }
}
