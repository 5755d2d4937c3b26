import NIOCore
import NIOPosix
import Synchronization

import struct NIOConcurrencyHelpers.NIOLockedValueBox

#if canImport(Glibc)
    import Glibc
#endif

/// Runs one load scenario to completion and returns its report.
///
/// Phases: connect (rate- and concurrency-capped, from rotated source IPs), wait for SUBACKs, hold
/// (keepalive PINGREQs; publishers run), disconnect. The calling thread polls the shared counters,
/// prints progress and drives the phases; connections live on the event loops. `run()` blocks and
/// must not be called on an event loop.
public final class LoadRunner: Sendable {
    private let options: LoadOptions
    /// The live counters, readable while the run goes on.
    public let stats = BenchStats()
    private let channels = NIOLockedValueBox<[any Channel]>([])
    private let publishers = NIOLockedValueBox<[any Channel]>([])
    private let progress: ProgressPrinter
    /// Set at the end of the hold: no reconnect starts after it.
    private let stopping = Atomic<Bool>(false)
    /// How long the end of the hold waits for PINGRESPs still in flight (ns): enough for a
    /// CPU-starved bench process among many to read them, short next to any hold.
    static let pingAnswerWait: UInt64 = 5_000_000_000

    /// Prepares a run; nothing starts until ``run()``.
    public init(options: LoadOptions, progress: ProgressPrinter = ProgressPrinter()) {
        self.options = options
        self.progress = progress
    }

    /// Runs the scenario; returns the report (also when the duration bound cut it short).
    public func run() throws -> BenchReport {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, options.threads))
        defer { try? group.syncShutdownGracefully() }
        let loops = Array(group.makeIterator())
        let runStart = BenchClock.now()
        let deadline = runStart + UInt64(options.durationSeconds * 1e9)
        var timedOut = false
        let links = (0..<options.pairs).map { _ in PairLinkBox() }
        let watcher = startWillWatcher(on: group, deadline: deadline)
        defer { watcher?.stop() }

        // Connect phase: this thread starts connections on schedule, bounded by count and deadline.
        var next = 0
        var lastProgress = runStart
        let target = try SocketAddress.makeAddressResolvingHost(options.target.host, port: options.target.port)
        while true {
            let now = BenchClock.now()
            if now >= deadline {
                timedOut = true
                break
            }
            let allowedByRate =
                options.rate > 0 ? Int(options.rate * Double(now - runStart) / 1e9) + 1 : options.connections
            var budget = min(options.connections, allowedByRate) - next
            if options.concurrency > 0 {
                budget = min(budget, options.concurrency - stats.pending.load(ordering: .relaxed))
            }
            while budget > 0, next < options.connections {
                startConnection(index: next, loops: loops, links: links, target: target)
                next += 1
                budget -= 1
            }
            let done =
                stats.connected.load(ordering: .relaxed) + stats.failed.load(ordering: .relaxed)
            if next >= options.connections, done >= options.connections { break }
            lastProgress = maybeProgress(phase: "connect", last: lastProgress, now: now, runStart: runStart)
            usleep(1_000)
        }
        let connectEnd = BenchClock.now()

        // Wait (bounded) until every connected subscriber has its SUBACK.
        if options.pairs > 0, !timedOut {
            let wanted = min(options.pairs, stats.connected.load(ordering: .relaxed))
            let subDeadline = min(deadline, BenchClock.now() + 10_000_000_000)
            while stats.subscribed.load(ordering: .relaxed) < wanted, BenchClock.now() < subDeadline {
                usleep(5_000)
            }
        }

        // Hold phase.
        var holdStart = BenchClock.now()
        var sentAtWarmup = 0
        var receivedAtWarmup = 0
        var warmedUp = options.warmupSeconds == 0
        let dropsBeforeHold = stats.dropped.load(ordering: .relaxed)
        if !timedOut, options.holdSeconds > 0 {
            if options.pairs > 0 {
                let perPublisher = options.publishRate / Double(max(1, options.pairs))
                let command = PublishCommand.start(ratePerSecond: perPublisher, window: options.window)
                for channel in publishers.withLockedValue({ $0 }) {
                    channel.pipeline.fireUserInboundEventTriggered(command)
                }
            }
            let holdEnd = holdStart + UInt64(options.holdSeconds * 1e9)
            var now = BenchClock.now()
            while now < holdEnd {
                if now >= deadline {
                    timedOut = true
                    break
                }
                if !warmedUp, now - holdStart >= UInt64(options.warmupSeconds * 1e9) {
                    warmedUp = true
                    stats.resetRoundTrips()
                    sentAtWarmup = stats.published.load(ordering: .relaxed)
                    receivedAtWarmup = stats.received.load(ordering: .relaxed)
                    holdStart = now
                }
                lastProgress = maybeProgress(phase: "hold", last: lastProgress, now: now, runStart: runStart)
                usleep(10_000)
                now = BenchClock.now()
            }
        }
        let holdEnd = BenchClock.now()
        stopping.store(true, ordering: .relaxed)
        let reconnectReport = reconnectFigures(watcher: watcher)
        let sent = stats.published.load(ordering: .relaxed) - sentAtWarmup
        let received = stats.received.load(ordering: .relaxed) - receivedAtWarmup
        let dropsInHold = stats.dropped.load(ordering: .relaxed) - dropsBeforeHold
        let rtt = stats.roundTripHistogram()

        // Stop publishing and pinging, wait (bounded) for the PINGRESPs still on their way, so that
        // pings - pongs counts answers lost rather than answers not yet read; then disconnect everything
        // (reconnects still in flight first end, bounded, so none connects after the disconnect).
        let reconnectDeadline = BenchClock.now() + Self.pingAnswerWait
        while stats.reconnect.pending.load(ordering: .relaxed) > 0, BenchClock.now() < reconnectDeadline {
            usleep(10_000)
        }
        let open = channels.withLockedValue { all in
            let copy = all
            all.removeAll()
            return copy
        }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(PublishCommand.stop)
        }
        // The stops are queued on the loops; a task behind them on each loop marks the last ping sent.
        _ = try? EventLoopFuture.andAllComplete(loops.map { $0.submit {} }, on: loops[0]).wait()
        let answerDeadline = min(deadline, BenchClock.now() + Self.pingAnswerWait)
        while stats.pongs.load(ordering: .relaxed) < stats.pings.load(ordering: .relaxed),
            BenchClock.now() < answerDeadline
        {
            usleep(10_000)
        }
        let closes = open.map { channel in
            channel.pipeline.fireUserInboundEventTriggered(PublishCommand.disconnect)
            return channel.closeFuture
        }
        if let loop = loops.first, !closes.isEmpty {
            let all = EventLoopFuture.andAllComplete(closes, on: loop)
            _ = try? all.flatMapError { _ in loop.makeSucceededVoidFuture() }.wait()
        }
        progress.finish()

        let connack = stats.connAckHistogram()
        let firstStart = stats.firstStartNanos.load(ordering: .relaxed)
        let lastAck = stats.lastConnAckNanos.load(ordering: .relaxed)
        let connectSeconds = lastAck > firstStart ? Double(lastAck - firstStart) / 1e9 : 0
        let holdSeconds = Double(holdEnd - holdStart) / 1e9
        return BenchReport(
            connections: options.connections,
            started: stats.started.load(ordering: .relaxed),
            connected: stats.connected.load(ordering: .relaxed),
            failed: stats.failed.load(ordering: .relaxed),
            failedConnect: stats.failedConnect.load(ordering: .relaxed),
            failedClosed: stats.failedClosed.load(ordering: .relaxed),
            failedRefused: stats.failedRefused.load(ordering: .relaxed),
            failedTimeout: stats.failedTimeout.load(ordering: .relaxed),
            droppedInHold: dropsInHold,
            dropped: stats.dropped.load(ordering: .relaxed),
            connectSeconds: connectSeconds,
            connAckP50Micros: connack.totalCount > 0 ? connack.valueAtPercentile(50) : 0,
            connAckP99Micros: connack.totalCount > 0 ? connack.valueAtPercentile(99) : 0,
            connAckMaxMicros: connack.totalCount > 0 ? connack.max : 0,
            holdSeconds: holdSeconds,
            published: sent,
            received: received,
            roundTripP50Micros: rtt.totalCount > 0 ? rtt.valueAtPercentile(50) : 0,
            roundTripP99Micros: rtt.totalCount > 0 ? rtt.valueAtPercentile(99) : 0,
            roundTripMaxMicros: rtt.totalCount > 0 ? rtt.max : 0,
            publishedTotal: stats.published.load(ordering: .relaxed),
            receivedTotal: stats.received.load(ordering: .relaxed),
            pings: stats.pings.load(ordering: .relaxed),
            pongs: stats.pongs.load(ordering: .relaxed),
            elapsedSeconds: Double(BenchClock.now() - runStart) / 1e9,
            connectPhaseSeconds: Double(connectEnd - runStart) / 1e9,
            timedOut: timedOut, reconnect: reconnectReport)
    }

    /// Starts the Will watcher when the options ask for one and waits (at most 10 s) for its subscriptions.
    private func startWillWatcher(on group: any EventLoopGroup, deadline: UInt64) -> WillWatcher? {
        guard !options.watchWills.isEmpty, let prefix = options.client.willTopicPrefix else { return nil }
        let watcher = WillWatcher(brokers: options.watchWills, topicPrefix: prefix)
        watcher.start(on: group)
        let wanted = options.watchWills.count
        let watchDeadline = min(deadline, BenchClock.now() + 10_000_000_000)
        while watcher.subscribed + watcher.failed < wanted, BenchClock.now() < watchDeadline { usleep(5_000) }
        if watcher.subscribed < wanted {
            BenchOutput.standardError("will watcher: \(watcher.subscribed) of \(wanted) brokers subscribed\n")
        }
        return watcher
    }

    /// The reconnect figures at the end of the hold: settle time, storm peak, Wills, DISCONNECT reasons.
    private func reconnectFigures(watcher: WillWatcher?) -> ReconnectReport {
        let counters = stats.reconnect
        var report = ReconnectReport()
        report.closed = counters.closed.load(ordering: .relaxed)
        report.reconnects = counters.reconnects.load(ordering: .relaxed)
        report.reconnectFailed = counters.failed.load(ordering: .relaxed)
        report.disconnect9C = counters.disconnect9C.load(ordering: .relaxed)
        report.disconnect8B = counters.disconnect8B.load(ordering: .relaxed)
        report.wills = watcher?.wills
        let firstClose = counters.firstCloseNanos.load(ordering: .relaxed)
        let settled = counters.settledNanos.load(ordering: .relaxed)
        let allBack = stats.active.load(ordering: .relaxed) >= stats.connected.load(ordering: .relaxed)
        if firstClose > 0, settled >= firstClose, allBack {
            report.settleSeconds = Double(settled - firstClose) / 1e9
        }
        if firstClose > 0 {
            report.peakConnects100ms = WindowPeak.count(
                of: counters.connAckTimeline(), from: firstClose, windowNanos: 100_000_000)
        }
        return report
    }

    private func maybeProgress(phase: String, last: UInt64, now: UInt64, runStart: UInt64) -> UInt64 {
        guard options.progressSeconds > 0, now - last >= UInt64(options.progressSeconds * 1e9) else { return last }
        progress.update(
            ProgressSample(
                phase: phase, elapsedSeconds: Double(now - runStart) / 1e9,
                connected: stats.connected.load(ordering: .relaxed), failed: stats.failed.load(ordering: .relaxed),
                active: stats.active.load(ordering: .relaxed), dropped: stats.dropped.load(ordering: .relaxed),
                received: stats.received.load(ordering: .relaxed), intervalSeconds: Double(now - last) / 1e9,
                closed: stats.reconnect.closed.load(ordering: .relaxed),
                reconnects: stats.reconnect.reconnects.load(ordering: .relaxed)))
        return now
    }

    /// Starts connection `index`: subscribers first (pair i on loop i), then their publishers on the
    /// same loops, then idle sessions round-robin.
    private func startConnection(
        index: Int, loops: [any EventLoop], links: [PairLinkBox], target: SocketAddress, attempt: BenchAttempt = .first
    ) {
        let role: BenchRole
        let loop: any EventLoop
        let linkBox: PairLinkBox?
        if index < options.pairs {
            role = .subscriber(topic: "\(options.topicPrefix)\(index)")
            loop = loops[index % loops.count]
            linkBox = links[index]
        } else if index < 2 * options.pairs {
            let pair = index - options.pairs
            role = .publisher(topic: "\(options.topicPrefix)\(pair)")
            loop = loops[pair % loops.count]
            linkBox = links[pair]
        } else {
            role = .idle
            loop = loops[index % loops.count]
            linkBox = nil
        }
        let settings = options.client
        let clientID = "\(options.clientIDPrefix)-\(index)"
        let stats = self.stats
        let startedAt = BenchClock.now()
        if attempt == .first { stats.recordStart(at: startedAt) } else { stats.recordReconnectStart() }
        let onEnded = reconnectHandler(index: index, attempt: attempt, loops: loops, links: links, target: target)
        let isPublisher: Bool
        if case .publisher = role { isPublisher = true } else { isPublisher = false }
        let onConnected: @Sendable (any Channel) -> Void = { [self] channel in
            self.channels.withLockedValue { $0.append(channel) }
            if isPublisher { self.publishers.withLockedValue { $0.append(channel) } }
        }
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelOption(
                ChannelOptions.recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 256, maximum: 65_536)
            )
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = BenchClientHandler(
                        settings: settings, clientID: clientID, role: role, stats: stats,
                        link: linkBox?.link, startedAt: startedAt, attempt: attempt, onConnected: onConnected,
                        onEnded: onEnded)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        if !options.sourceIPs.isEmpty {
            let source = options.sourceIPs[index % options.sourceIPs.count]
            if let local = try? SocketAddress(ipAddress: source, port: 0) {
                bootstrap = bootstrap.channelOption(BenchSocketOptions.ipBindAddressNoPort, value: 1).bind(to: local)
            }
        }
        bootstrap.connect(to: target).whenFailure { _ in
            if attempt == .first { stats.recordFailure(.connect) } else { stats.recordReconnectFailure() }
            onEnded?(.failed)
        }
    }

    /// What connection `index` does when it ends, in the reconnecting mode: schedule its next attempt on
    /// its own loop after the back-off (not after a failed first connect, nor once the hold is over).
    private func reconnectHandler(
        index: Int, attempt: BenchAttempt, loops: [any EventLoop], links: [PairLinkBox], target: SocketAddress
    ) -> (@Sendable (BenchAttempt.Outcome) -> Void)? {
        guard let backoff = options.reconnect else { return nil }
        return { [self] outcome in
            guard !self.stopping.load(ordering: .relaxed), !(attempt == .first && outcome == .failed) else { return }
            let failures = attempt.failuresAfter(outcome)
            let delay = TimeAmount.nanoseconds(Int64(backoff.delaySeconds(failures: failures) * 1e9))
            loops[index % loops.count].scheduleTask(in: delay) {
                guard !self.stopping.load(ordering: .relaxed) else { return }
                self.startConnection(
                    index: index, loops: loops, links: links, target: target, attempt: .reconnect(failures: failures))
            }
        }
    }
}

/// Holds a pair's link so it can cross into the channel initializer.
///
/// `@unchecked Sendable`: the box is created on the driving thread before either connection of the pair
/// exists and only read afterwards; the ``PairLink`` inside is touched only on the pair's event loop,
/// where both connections of the pair are created (see `startConnection`).
final class PairLinkBox: @unchecked Sendable {
    let link = PairLink()
}

/// Socket options NIO has no names for.
public enum BenchSocketOptions {
    /// Linux `IP_BIND_ADDRESS_NO_PORT` (include/uapi/linux/in.h, 24): the port is picked at connect(),
    /// per destination, so one source IP reaches ~64k connections to each destination.
    public static let ipBindAddressNoPort = ChannelOptions.Types.SocketOption(level: .init(IPPROTO_IP), name: 24)
    /// `SO_REUSEPORT`: several sink processes share one listening port.
    public static let reusePort = ChannelOptions.Types.SocketOption(level: .init(SOL_SOCKET), name: SO_REUSEPORT)
}
