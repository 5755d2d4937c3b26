/// Everything one `brokerfront-bench run` does. Built by the command line; plain values, any thread.
public struct LoadOptions: Sendable {
    /// Where to connect.
    public var target = BenchEndpoint(host: "127.0.0.1", port: 1883)
    /// Connections to open in all.
    public var connections = 100
    /// New connections started per second; 0 = as fast as the concurrency cap allows.
    public var rate = 0.0
    /// At most this many connects waiting for CONNACK at once; 0 = no cap.
    public var concurrency = 0
    /// Local addresses to bind before connecting, rotated per connection; empty = the kernel's choice.
    public var sourceIPs: [String] = []
    /// Per-connection protocol settings.
    public var client = BenchClientSettings()
    /// How long to hold the sessions (and publish) after the connect phase.
    public var holdSeconds = 0.0
    /// Subscribers, each paired with one publisher on its own topic; 0 = no messaging.
    public var pairs = 0
    /// Total messages per second over all publishers; 0 = as fast as the window allows.
    public var publishRate = 0.0
    /// Messages per pair sent but not yet received; 0 = unbounded (rate mode only).
    public var window = 0
    /// Round trips before this point of the hold phase are not counted.
    public var warmupSeconds = 0.0
    /// Hard bound on the whole run; the run stops and reports when it is reached.
    public var durationSeconds = 600.0
    /// Event loop threads.
    public var threads = 1
    /// Client identifier prefix; the connection index follows it.
    public var clientIDPrefix = "bench"
    /// Topic prefix for pairs; the pair index follows it.
    public var topicPrefix = "bench/"
    /// Seconds between progress lines; 0 = none.
    public var progressSeconds = 1.0
    /// When set, sessions the server side closes during the run reconnect after this back-off (the
    /// client's first connect is not retried); nil = a close is final.
    public var reconnect: ReconnectBackoff?
    /// Brokers to watch for Will messages on `client.willTopicPrefix/#`, directly; empty = no watcher.
    public var watchWills: [BenchEndpoint] = []

    /// Defaults: 100 idle connections to 127.0.0.1:1883, no hold.
    public init() {}

    /// Checks the combinations the options cannot run in: a Will watcher needs Wills to watch, and a
    /// reconnecting client neither closes after CONNACK nor publishes (a reconnected publisher stays idle).
    public func validate() throws(BenchOptionError) {
        if !watchWills.isEmpty, client.willTopicPrefix == nil {
            throw .invalid(value: "--watch-wills", expected: "--will-topic as well")
        }
        if reconnect != nil, client.closeAfterConnAck {
            throw .invalid(value: "--reconnect", expected: "no --churn (churned sessions end on the client's terms)")
        }
        if reconnect != nil, pairs > 0 {
            throw .invalid(value: "--reconnect", expected: "no --pairs (reconnected publishers do not resume)")
        }
    }
}
