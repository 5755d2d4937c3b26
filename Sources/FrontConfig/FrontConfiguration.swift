/// The whole validated configuration of one brokerfront process.
///
/// Produced by ``ConfigLoader`` from YAML; every field carries its default already applied, so the
/// data path never has to know what was written and what was defaulted. Immutable and `Sendable`:
/// a reload builds a new value and swaps it whole.
public struct FrontConfiguration: Sendable, Equatable {
    /// The optional HTTP admin plane (status, metrics).
    public var admin: AdminConfig?
    /// Log level and format.
    public var log: LogConfig
    /// How long open sessions may run after SIGTERM/SIGINT before they are closed.
    public var drainTimeout: Duration
    /// Process-wide cap on client connections; above it accepting pauses.
    public var maxConnections: Int
    /// Threads that accept plain-TCP listeners' connections and relay their sessions on their own
    /// epoll loop, without SwiftNIO channels (`relay_threads`); nil: auto
    /// (``relayThreadCount(eventLoops:)``); 0: every session stays on SwiftNIO. Read at start only.
    public var relayThreads: Int?
    /// The scheduler time slice each relay thread asks for (`relay_slice`); zero leaves the kernel's
    /// default. A relay thread sleeps most of the time and, once woken, has a few microseconds of work;
    /// with a short slice it runs before the task that woke it finishes its own slice (EEVDF on
    /// Linux >= 6.12 puts the earlier virtual deadline first), which cuts the relay's added latency
    /// under load (docs/benchmarks.md, S3). Read at start only.
    public var relaySlice: Duration
    /// With two or more relay threads, every new session starts on the first one, and those that
    /// last this long move to the relay thread with the fewest sessions (`relay_spread`): connect
    /// storms stay on one thread (fewer wake-ups and cross-thread hops per connect), long-lived
    /// sessions' traffic is shared. Zero: each relay thread keeps the sessions of its own event
    /// loops. Read at start only.
    public var relaySpread: Duration
    /// Whether each relay thread has an assist thread that relays part of a large batch of ready
    /// sessions beside it (`relay_assist`): a burst of messages is not queued behind one thread,
    /// while a busy thread keeps batching. nil: auto (``relayAssistOn(cpus:eventLoops:)``). Read at
    /// start only.
    public var relayAssist: Bool?
    /// Keys the file holds that no longer do anything (of ``removedKeys``, in that order): they load,
    /// and ``ignoredKeysWarning`` names them.
    public var ignoredKeys: [String] = []
    /// The listening sockets, in file order.
    public var listeners: [ListenerConfig]
    /// The server groups listeners send sessions to, in file order.
    public var backends: [BackendConfig]
    /// Whether the front reloads by itself when the configuration file or a TLS file it names
    /// changes (`watch`), as a Kubernetes ConfigMap or cert-manager Secret is updated.
    public var watch: Bool = false

    /// `relay_slice` when not written: the shortest slice Linux grants (100 µs).
    public static let defaultRelaySlice = Duration.microseconds(100)
    /// The slices Linux grants (it clamps anything else into this range); zero means "kernel default".
    public static let relaySliceRange = Duration.microseconds(100)...Duration.milliseconds(100)

    /// How many relay threads run beside `eventLoops` event loops: the configured count, or for
    /// `auto` one per two event loops (at least one). A relay thread's work is `recv` and `send`; one
    /// that stays busy finds several sockets ready per wake and moves several messages per call, so
    /// fewer, fuller threads cost less per message than one per core (docs/benchmarks.md, S3).
    public func relayThreadCount(eventLoops: Int) -> Int {
        relayThreads ?? max(1, eventLoops / 2)
    }

    /// Whether the relay threads get assist threads: as configured, or for `auto` when the front
    /// may run on at least two CPUs per relay thread (one to spare for each assist thread).
    public func relayAssistOn(cpus: Int, eventLoops: Int) -> Bool {
        relayAssist ?? (cpus >= 2 * relayThreadCount(eventLoops: eventLoops))
    }

    public init(
        admin: AdminConfig? = nil,
        log: LogConfig = LogConfig(),
        drainTimeout: Duration = .seconds(30),
        maxConnections: Int = 100_000,
        relayThreads: Int? = nil,
        relaySlice: Duration = FrontConfiguration.defaultRelaySlice,
        relaySpread: Duration = .zero,
        relayAssist: Bool? = nil,
        listeners: [ListenerConfig] = [],
        backends: [BackendConfig] = []
    ) {
        self.admin = admin
        self.log = log
        self.drainTimeout = drainTimeout
        self.maxConnections = maxConnections
        self.relayThreads = relayThreads
        self.relaySlice = relaySlice
        self.relaySpread = relaySpread
        self.relayAssist = relayAssist
        self.listeners = listeners
        self.backends = backends
    }

    /// Top-level keys that are accepted but ignored: they once chose how plain-TCP sessions reach the
    /// relay threads, which now always accept them and dial from plain sockets.
    public static let removedKeys = ["relay_connect", "relay_accept"]

    /// A warning for `check` and `run` when the file holds ``ignoredKeys``; nil otherwise.
    public var ignoredKeysWarning: String? {
        guard !ignoredKeys.isEmpty else { return nil }
        let keys = ignoredKeys.joined(separator: " and ")
        return "\(keys) \(ignoredKeys.count == 1 ? "is" : "are") ignored and can be removed: with relay threads "
            + "(relay_threads above 0, the default) every plain-TCP listener accepts on them and dials from plain "
            + "sockets; relay_threads: 0 keeps every session on SwiftNIO"
    }

    /// The backend a listener names; validation guarantees it exists for a loaded configuration.
    public func backend(named name: String) -> BackendConfig? {
        backends.first { $0.name == name }
    }
}
