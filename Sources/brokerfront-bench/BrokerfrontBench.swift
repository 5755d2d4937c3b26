import ArgumentParser
import FrontBench
import MQTTWire

#if canImport(Glibc)
    import Glibc
#endif

/// `brokerfront-bench`: the MQTT load generator (`run`, the default) and a minimal MQTT sink (`sink`).
@main
struct BrokerfrontBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brokerfront-bench",
        abstract: "MQTT load generator and sink for benchmarking brokerfront.",
        subcommands: [RunCommand.self, SinkCommand.self],
        defaultSubcommand: RunCommand.self)
}

/// `brokerfront-bench [run] --target host:port ...`: opens connections, holds them, publishes, reports.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Open MQTT sessions, hold them, optionally publish; last line: RESULT key=value ...",
        discussion: """
            Phases: connect (--rate, --concurrency), wait for SUBACKs, hold (--hold; PINGREQ every --keepalive \
            seconds; publishers run), disconnect. --pairs N makes N subscriber/publisher pairs (connections \
            0..<N subscribe to bench/i, N..<2N publish to it); round trips are measured at the subscribers. \
            With --reconnect, sessions the server side closes (TCP close or DISCONNECT) reconnect after a \
            full-jitter back-off (the delay is uniform between 0 and a ceiling that starts at --reconnect-min \
            and doubles per failed attempt up to --reconnect-max); --will-topic gives each CONNECT a Will and \
            --watch-wills counts the Wills the brokers publish. Progress goes to standard error, the RESULT \
            line to standard output.
            """)

    @Option(help: "Where to connect (host:port).") var target: String = "127.0.0.1:1883"
    @Option(help: "Connections to open in all.") var connections: Int = 100
    @Option(help: "New connections per second (0 = no pacing).") var rate: Double = 0
    @Option(help: "At most this many connects awaiting CONNACK at once (0 = no cap).") var concurrency: Int = 0
    @Option(
        name: .customLong("source-ips"),
        help: "Local IPv4 addresses/ranges to bind, rotated, e.g. 127.0.1.1-127.0.1.50.")
    var sourceIPs: String?
    @Option(name: .customLong("protocol"), help: "MQTT version: 3.1.1 or 5.") var protocolVersion: String = "3.1.1"
    @Option(help: "Keepalive in CONNECT (s); PINGREQ this often while holding (0 = none).") var keepalive: UInt16 = 60
    @Option(help: "How long to hold the sessions after connecting (e.g. 30s).") var hold: String = "0s"
    @Flag(help: "Send DISCONNECT right after each CONNACK (connect-rate scenarios).") var churn = false
    @Option(help: "Subscriber/publisher pairs among the connections.") var pairs: Int = 0
    @Option(name: .customLong("publish-rate"), help: "Messages/s over all publishers (0 = as fast as --window allows).")
    var publishRate: Double = 0
    @Option(help: "Messages per pair in flight (0 = unbounded).") var window: Int = 0
    @Option(name: .customLong("payload-size"), help: "PUBLISH payload bytes (>= 8).") var payloadSize: Int = 64
    @Option(help: "QoS of PUBLISH and SUBSCRIBE (0 or 1).") var qos: UInt8 = 0
    @Option(help: "Round trips in this first part of the hold are not counted.") var warmup: String = "0s"
    @Option(help: "Hard bound on the whole run.") var duration: String = "10m"
    @Option(name: .customLong("connack-timeout"), help: "No CONNACK within this is a failure.") var connAckTimeout:
        String = "10s"
    @Option(help: "Event loop threads.") var threads: Int = 1
    @Option(name: .customLong("client-id-prefix"), help: "Client ids are PREFIX-INDEX.") var clientIDPrefix: String =
        "bench"
    @Option(help: "Seconds between progress lines (0 = none).") var progress: Double = 1
    @Flag(help: "Reconnect sessions the server side closes, with jittered exponential back-off.") var reconnect = false
    @Option(name: .customLong("reconnect-min"), help: "Back-off ceiling of the first reconnect after a close.")
    var reconnectMin: String = "100ms"
    @Option(name: .customLong("reconnect-max"), help: "Largest back-off ceiling.") var reconnectMax: String = "5s"
    @Option(name: .customLong("will-topic"), help: "Give each CONNECT a QoS 0 Will on PREFIX/<client id>.")
    var willTopic: String?
    @Option(
        name: .customLong("watch-wills"),
        help: "Brokers (host:port,...) to subscribe to PREFIX/# directly and count Wills (needs --will-topic).")
    var watchWills: String?

    func run() throws {
        var options = LoadOptions()
        do {
            options.target = try BenchValueParsers.endpoint(target)
            if let sourceIPs { options.sourceIPs = try BenchValueParsers.sourceIPs(sourceIPs) }
            options.holdSeconds = try BenchValueParsers.seconds(hold)
            options.warmupSeconds = try BenchValueParsers.seconds(warmup)
            options.durationSeconds = try BenchValueParsers.seconds(duration)
            let timeout = try BenchValueParsers.seconds(connAckTimeout)
            options.client.connAckTimeout = .nanoseconds(Int64(timeout * 1e9))
            if reconnect {
                options.reconnect = try ReconnectBackoff(
                    minimumSeconds: BenchValueParsers.seconds(reconnectMin),
                    maximumSeconds: BenchValueParsers.seconds(reconnectMax))
            }
            if let willTopic { options.client.willTopicPrefix = try BenchValueParsers.topicPrefix(willTopic) }
            if let watchWills { options.watchWills = try BenchValueParsers.endpoints(watchWills) }
        } catch {
            throw ValidationError(error.description)
        }
        switch protocolVersion {
        case "3.1.1", "4": options.client.version = .v3_1_1
        case "5", "5.0": options.client.version = .v5
        default: throw ValidationError("--protocol must be 3.1.1 or 5, not '\(protocolVersion)'")
        }
        guard connections > 0 else { throw ValidationError("--connections must be at least 1") }
        guard qos <= 1 else { throw ValidationError("--qos must be 0 or 1") }
        guard 2 * pairs <= connections else { throw ValidationError("--pairs needs 2 connections per pair") }
        options.connections = connections
        options.rate = rate
        options.concurrency = concurrency
        options.client.keepAlive = keepalive
        options.client.closeAfterConnAck = churn
        options.client.payloadSize = max(8, payloadSize)
        options.client.qos = qos
        options.pairs = pairs
        options.publishRate = publishRate
        options.window = window
        options.threads = threads
        options.clientIDPrefix = clientIDPrefix
        options.progressSeconds = progress
        do { try options.validate() } catch { throw ValidationError(error.description) }
        let report = try LoadRunner(options: options).run()
        BenchOutput.standardOutput(report.resultLine + "\n")
    }
}

/// `brokerfront-bench sink --bind host:port`: a minimal MQTT endpoint sharing its port with other sinks.
struct SinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sink",
        abstract: "Minimal MQTT endpoint (CONNACK, PINGRESP, SUBACK; swallows the rest) with SO_REUSEPORT.")

    @Option(help: "Listen address (host:port); several sinks may share it.") var bind: String = "127.0.0.1:1883"
    @Option(help: "Event loop threads.") var threads: Int = 1
    @Option(help: "Listen backlog (the kernel caps it at net.core.somaxconn).") var backlog: Int32 = 4_096
    @Option(help: "Exit after this long (0 = until SIGTERM/SIGINT).") var duration: String = "0s"
    @Option(help: "Seconds between status lines on standard error (0 = none).") var report: Double = 10

    func run() throws {
        let endpoint: BenchEndpoint
        let seconds: Double
        do {
            endpoint = try BenchValueParsers.endpoint(bind)
            seconds = try BenchValueParsers.seconds(duration)
        } catch {
            throw ValidationError(error.description)
        }
        let sink = SinkServer(bind: endpoint, threads: threads, backlog: backlog)
        let port = try sink.start()
        BenchOutput.standardOutput("sink listening on \(endpoint.host):\(port) pid=\(getpid())\n")
        let start = BenchClockFacade.now()
        var lastReport = start
        while seconds == 0 || BenchClockFacade.now() - start < seconds {
            usleep(100_000)
            let now = BenchClockFacade.now()
            if report > 0, now - lastReport >= report {
                lastReport = now
                let active = sink.counters.active.load(ordering: .relaxed)
                let total = sink.counters.total.load(ordering: .relaxed)
                BenchOutput.standardError("sink pid=\(getpid()) active=\(active) total=\(total)\n")
            }
        }
        sink.stop()
    }
}

/// Seconds of monotonic time, for the command loop.
enum BenchClockFacade {
    static func now() -> Double { Double(BenchClock.now()) / 1e9 }
}
