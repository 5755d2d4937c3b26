import FrontConfig
import FrontCore
import Glibc
import MQTTWire
import NIOCore
import NIOPosix
import ProxyProtocol

/// Runs one health check of one server: dial, talk the check's protocol, judge the answer.
/// The whole exchange (dial included) is bounded by the check's `timeout`.
enum HealthProbe {
    /// The check's result; nil when the front itself could not try (out of descriptors, ports or
    /// buffers), which says nothing about the server and must not count against it.
    static func run(
        _ check: HealthCheckConfig, server: ServerRuntime, sendProxyProtocol: ProxyProtocolVersion = .none,
        group: any EventLoopGroup
    ) async -> CheckResult? {
        let started = ContinuousClock.now
        let outcome: (ok: Bool, message: String)
        do {
            outcome = try await withTimeout(check.timeout) {
                let connection = try await ProbeConnection.open(
                    to: server, from: server.nextSourceIP(), timeout: check.timeout, group: group)
                return try await connection.exchange { exchange in
                    // Brokers that expect a PROXY header expect it from checks too (as HAProxy's
                    // check-send-proxy): a LOCAL header says "this is the front itself".
                    switch sendProxyProtocol {
                    case .none: break
                    case .v1: try await exchange.send(Array("PROXY UNKNOWN\r\n".utf8))
                    case .v2: try await exchange.send(ProxyHeaderEncoder.v2Local())
                    }
                    return try await talk(check, server: server, exchange)
                }
            }
        } catch {
            return result(of: error, after: ContinuousClock.now - started)
        }
        return CheckResult(ok: outcome.ok, duration: ContinuousClock.now - started, message: outcome.message)
    }

    /// What a probe that threw `error` tells: a failed check, or nothing at all when the error is
    /// the front's own shortage (``isLocalResourceError(_:)``).
    static func result(of error: any Error, after duration: Duration) -> CheckResult? {
        guard !isLocalResourceError(error) else { return nil }
        return CheckResult(ok: false, duration: duration, message: describe(error))
    }

    /// EMFILE/ENFILE (no descriptor), ENOBUFS/ENOMEM, EADDRNOTAVAIL (no local port): the front's
    /// limits, not the server's health; as on the data path, they never mark a server down.
    static func isLocalResourceError(_ error: any Error) -> Bool {
        let local: Set<CInt> = [EMFILE, ENFILE, ENOBUFS, ENOMEM, EADDRNOTAVAIL]
        if let io = error as? IOError { return local.contains(io.errnoCode) }
        if let failed = error as? NIOConnectionError {
            return !failed.connectionErrors.isEmpty
                && failed.connectionErrors.allSatisfy { isLocalResourceError($0.error) }
        }
        return false
    }

    /// The check-type specific conversation.
    static func talk(
        _ check: HealthCheckConfig, server: ServerRuntime, _ exchange: ProbeConnection.Exchange
    ) async throws -> (ok: Bool, message: String) {
        switch check.type {
        case .tcp:
            return (true, "connected")
        case .mqtt:
            let connect = MQTTConnect(
                version: .v3_1_1, cleanStart: true, keepAlive: 10, clientID: checkClientID(server),
                username: check.username, password: check.password.map { Array($0.utf8) })
            try await exchange.send(connect.encode())
            let verdict = try await exchange.receive(ProbeReplies.connack)
            if verdict.ok { try? await exchange.send(MQTTPacket.disconnect) }
            return verdict
        case .redisMaster:
            if let password = check.password {
                let words = [check.username, password].compactMap { $0 }
                try await exchange.send(resp(["AUTH"] + words))
                let reply = try await exchange.receive(ProbeReplies.respReply)
                guard reply == "+OK" else { return (false, "AUTH: \(reply)") }
            }
            try await exchange.send(resp(["PING"]))
            let pong = try await exchange.receive(ProbeReplies.respReply)
            guard pong == "+PONG" else { return (false, "PING: \(pong)") }
            try await exchange.send(resp(["INFO", "replication"]))
            let info = try await exchange.receive(ProbeReplies.respReply)
            return ProbeReplies.redisRole(info)
        case .sendExpect:
            if let send = check.send, !send.isEmpty { try await exchange.send(send) }
            let expect = Array((check.expect ?? "").utf8)
            _ = try await exchange.receive { ProbeReplies.contains($0, expect) ? true : nil }
            return (true, "found \"\(check.expect ?? "")\"")
        }
    }

    /// A fixed, short client id per server (≤ 23 bytes, as 3.1 requires), the same in every
    /// front so checks from several fronts reuse one broker session rather than pile up.
    static func checkClientID(_ server: ServerRuntime) -> String {
        let hash = StableHash.of("\(server.backendName)/\(server.name)")
        return "bfcheck-" + String(hash & 0xffff_ffff_ffff, radix: 16)
    }

    /// A RESP array of bulk strings.
    static func resp(_ words: [String]) -> [UInt8] {
        var text = "*\(words.count)\r\n"
        for word in words { text += "$\(word.utf8.count)\r\n\(word)\r\n" }
        return Array(text.utf8)
    }

    static func describe(_ error: any Error) -> String {
        if let probe = error as? ProbeError { return probe.description }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return "connect timeout" }
        // IOError's own text repeats NIO's internal reason ("connection reset (error set): ...").
        if let io = error as? IOError { return "\(String(cString: strerror(io.errnoCode))) (errno \(io.errnoCode))" }
        return "\(error)"
    }

    /// Runs `body`, throwing ``ProbeError/timeout`` if it takes longer than `timeout`.
    static func withTimeout<Value: Sendable>(
        _ timeout: Duration, _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        try await withThrowingTaskGroup(of: Value.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ProbeError.timeout
            }
            defer { group.cancelAll() }
            guard let value = try await group.next() else { throw ProbeError.timeout }
            return value
        }
    }
}
