import CLibFuzzer
import FrontConfig
import FrontCore

/// libFuzzer target for the configuration loader's validation: `ConfigLoader.parse(yaml:file:)` on
/// malformed documents. Besides "never traps or hangs", a refusal must carry at least one issue, each
/// with a 1-based position, a key path and a message (what `brokerfront check` prints), and an accepted
/// configuration must be internally consistent and survive the runtime arithmetic it feeds (routing
/// with slow start and health flips, source ports, idle deadlines, the accept-rate bucket, relay
/// thread counts): anything `check` accepts, `run` must be able to compute with.
///
/// The file name is under a directory that does not exist, so relative TLS paths in a document resolve
/// to nothing. See FuzzMQTTCodec for why this supplies `FuzzConfig_main`.
@_cdecl("FuzzConfig_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in
        let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        ConfigOracle.check(String(decoding: bytes, as: UTF8.self))
        return 0
    }
}

/// The properties checked on each input.
enum ConfigOracle {
    static let file = "/nonexistent-brokerfront-fuzz/front.yaml"

    static func check(_ yaml: String) {
        do {
            let config = try ConfigLoader.parse(yaml: yaml, file: file)
            for listener in config.listeners {
                precondition(config.backend(named: listener.backend) != nil, "listener without its backend")
            }
            precondition(config.maxConnections >= 1, "max_connections \(config.maxConnections)")
            runtime(config)
        } catch {
            precondition(!error.issues.isEmpty, "a refusal without issues")
            for issue in error.issues {
                precondition(issue.line >= 1 && issue.column >= 1, "position \(issue.line):\(issue.column)")
                precondition(!issue.path.isEmpty && !issue.message.isEmpty, "issue without path or message")
                _ = issue.formatted(file: error.file)
            }
        }
    }

    /// An accepted configuration through what the data path computes from it, at instants near
    /// the clock's start and far from it.
    static func runtime(_ config: FrontConfiguration) {
        for loops in [1, 2, 64] {
            let threads = config.relayThreadCount(eventLoops: loops)
            precondition(threads >= 0 && threads <= 64, "relay threads \(threads) for \(loops) loops")
            _ = config.relayAssistOn(cpus: loops, eventLoops: loops)
        }
        let start = MonotonicTime(nanoseconds: 1)
        let later = [
            start, start.adding(.seconds(1)), start.adding(.seconds(86_400 * 365)), MonotonicTime(nanoseconds: .max),
        ]
        for listener in config.listeners {
            for keepAlive: UInt16 in [0, 1, 60, .max] {
                if let deadline = KeepalivePolicy.idleTimeout(keepAlive: keepAlive, listener: listener) {
                    precondition(deadline > .zero, "idle deadline \(deadline) for keep alive \(keepAlive)")
                }
            }
            _ = KeepalivePolicy.idleTimeout(tcpListener: listener)
            if listener.limits.acceptRate > 0 {
                var bucket = TokenBucket(rate: listener.limits.acceptRate, now: start)
                for instant in later { _ = bucket.take(at: instant) }
            }
        }
        let snapshot = RoutingSnapshot(configuration: config)
        // A reload onto the same file keeps every server's live state by name.
        _ = RoutingSnapshot(configuration: config, previous: snapshot)
        let keys = [
            RoutingKey(clientID: "device-1", username: "user", sourceIP: "127.0.0.1"),
            RoutingKey(clientID: "", sourceIP: "::1", certificateCN: "cn"),
        ]
        for backend in snapshot.backends {
            for server in backend.servers {
                _ = server.checkCompleted(CheckResult(ok: true, duration: .milliseconds(1), message: "ok"))
                _ = server.effectiveWeight(slowStart: backend.config.slowStart, at: later[1])
                if let source = server.acquireSource() { server.releaseSource(source.ip, port: source.port) }
            }
            _ = backend.reevaluate()
            for instant in later {
                for key in keys { _ = backend.choose(for: key, at: instant) }
                _ = backend.activeServer(at: instant)
            }
            if let first = backend.servers.first {
                _ = first.dialFailed(at: later[1])
                _ = backend.reevaluate()
                for key in keys { _ = backend.choose(for: key, at: later[1], excluding: [first]) }
            }
        }
    }
}
