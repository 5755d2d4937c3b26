import Foundation
import FrontConfig
import FrontCore
import FrontProxy
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus

/// The admin HTTP plane (Hummingbird 2), built as an `Application`, which is itself a Service run
/// in the front's ServiceGroup:
/// `GET /status` (JSON), `GET /metrics` (Prometheus text), `POST /backends/{b}/failback`,
/// `POST /backends/{b}/servers/{s}/state`. Every request passes ``AdminGuardMiddleware`` first: the
/// token, loopback, `Host`, `Origin` and `Content-Type` rules of ``AdminGuard``.
public enum AdminServer {
    /// An idle connection, or one whose request head has not fully arrived, is closed after this long.
    static let idleTimeout: TimeAmount = .seconds(5)
    /// A request whose body has not fully arrived this long after its head closes its connection.
    static let bodyTimeout: TimeAmount = .seconds(10)
    /// `GET /sessions` requests served at once; more get 503 (each one walks every session).
    static let sessionsConcurrency = 4
    /// `offset + limit` of `GET /sessions` may not pass this: each event loop keeps that many rows while
    /// it selects a page, so a deeper page is refused (400) instead of costing memory without bound.
    public static let sessionsDepth = 10_000

    /// Builds the application bound to `config.bind`; state-changing requests check `token` (which a
    /// reload may replace). `onRunning` receives the bound port (useful with port 0).
    public static func make(
        config: AdminConfig,
        token: AdminToken,
        proxy: FrontProxy,
        registry: PrometheusCollectorRegistry,
        reloader: ConfigReloader,
        group: any EventLoopGroup,
        logger: Logger,
        history: StatusHistory,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: AdminRequestContext.self)
        // Before every route: a middleware only wraps the routes added after it.
        router.add(middleware: AdminGuardMiddleware(access: token))
        let sessionsGate = ConcurrencyGate(limit: sessionsConcurrency)
        // Read from the relay threads when scraped (additions to INTERFACE.md's metric list).
        let relayThreads = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "brokerfront", metricName: "relay", unitName: "threads",
                helpText: "Relay threads running (relay_threads)."))
        let relayedSessions = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "brokerfront", metricName: "relayed", unitName: "sessions",
                helpText: "Sessions whose bytes the relay threads carry now."))
        router.get("/status") { _, _ -> Response in
            json(StatusReport(proxy: proxy))
        }
        router.get("/healthz") { _, _ -> Response in
            let health = Healthz(proxy: proxy)
            return json(health, status: health.serving ? .ok : .serviceUnavailable)
        }
        router.get("/") { _, _ -> Response in
            let page = StatusPage.render(StatusReport(proxy: proxy), title: "brokerfront")
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        router.get("/metrics") { _, _ -> Response in
            let relay = proxy.relayStatus
            relayThreads.set(Int64(relay.threads))
            relayedSessions.set(Int64(relay.sessions))
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            bytes += Array(ProcessMetrics.render(ProcessMetrics.current()).utf8)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.post("/backends/:backend/failback") { _, context -> Response in
            let name = context.parameters.get("backend") ?? ""
            switch proxy.events.operatorFailback(backend: name) {
            case .done: break
            case .noBackend: return error(.notFound, "no backend named `\(name)`")
            case .refused(let reason): return error(.conflict, reason)
            }
            logger.notice("operator failback", metadata: ["backend": .string(name)])
            return json(StatusReport(proxy: proxy).backends.first { $0.name == name })
        }
        router.post("/backends/:backend/servers/:server/state") { request, context -> Response in
            let backendName = context.parameters.get("backend") ?? ""
            let serverName = context.parameters.get("server") ?? ""
            guard let backend = proxy.routing.snapshot.backend(named: backendName) else {
                return error(.notFound, "no backend named `\(backendName)`")
            }
            guard let server = backend.server(named: serverName) else {
                return error(.notFound, "no server named `\(serverName)` in backend `\(backendName)`")
            }
            let body = try await request.body.collect(upTo: 16 * 1024)
            guard let change = try? JSONDecoder().decode(StateChange.self, from: Data(buffer: body)) else {
                return error(.badRequest, #"body must be JSON like {"state":"drain"} (drain | maint | ready)"#)
            }
            guard let state = AdminState(rawValue: change.state) else {
                return error(.badRequest, "state `\(change.state)` is not one of drain, maint, ready")
            }
            server.setAdminState(state)
            proxy.events.adminStateChanged(server)
            logger.notice(
                "server state set by operator",
                metadata: [
                    "backend": .string(backendName), "server": .string(serverName), "state": .string(change.state),
                ])
            return json(StatusReport.Server(server))
        }
        router.post("/backends/:backend/servers/:server/evacuate") { request, context -> Response in
            let backendName = context.parameters.get("backend") ?? ""
            let serverName = context.parameters.get("server") ?? ""
            guard let body = try await moveBody(request) else {
                return error(
                    .badRequest, #"body must be empty or JSON like {"rate":500,"server_reference":"host:port"}"#)
            }
            switch proxy.evacuate(
                backend: backendName, server: serverName, rate: body.rate, serverReference: body.server_reference)
            {
            case .server(let server):
                let moving = proxy.mover.progress(backend: backendName, server: serverName)
                return json(StatusReport.Server(server, moving: moving), status: .accepted)
            case .noBackend, .backend: return error(.notFound, "no backend named `\(backendName)`")
            case .noServer: return error(.notFound, "no server named `\(serverName)` in backend `\(backendName)`")
            }
        }
        router.post("/backends/:backend/rebalance") { request, context -> Response in
            let backendName = context.parameters.get("backend") ?? ""
            guard let body = try await moveBody(request) else {
                return error(.badRequest, #"body must be empty or JSON like {"rate":500}"#)
            }
            guard case .backend = proxy.rebalance(backend: backendName, rate: body.rate) else {
                return error(.notFound, "no backend named `\(backendName)`")
            }
            logger.notice("rebalance by operator", metadata: ["backend": .string(backendName)])
            return json(["backend": backendName, "result": "rebalancing"], status: .accepted)
        }
        router.post("/sessions/:client_id/move") { _, context -> Response in
            let clientID = context.parameters.get("client_id") ?? ""
            let moved = await proxy.moveSessions(clientID: clientID)
            guard moved > 0 else {
                return error(.notFound, "no session with client id `\(clientID)` that can move now")
            }
            logger.notice("session moved by operator", metadata: ["client_id": .string(clientID)])
            return json(["moved": moved], status: .accepted)
        }
        router.post("/reload") { _, _ -> Response in
            switch await reloader.reload() {
            case .applied(let summary):
                return json(ReloadAnswer(result: "ok", summary: summary, errors: []))
            case .invalid(let problems):
                return json(
                    ReloadAnswer(result: "error", summary: nil, errors: problems), status: .unprocessableContent)
            case .failed(let reason):
                return json(
                    ReloadAnswer(result: "error", summary: nil, errors: [reason]), status: .unprocessableContent)
            }
        }
        router.get("/sessions") { request, _ -> Response in
            let query = request.uri.queryParameters
            let limit = min(max(Int(query["limit"].map(String.init) ?? "") ?? 100, 0), 1000)
            let offset = max(Int(query["offset"].map(String.init) ?? "") ?? 0, 0)
            guard offset <= sessionsDepth - limit else {
                return error(
                    .badRequest,
                    "offset + limit may not pass \(sessionsDepth); narrow the listing with client_id or server")
            }
            guard sessionsGate.tryEnter() else {
                var busy = error(.serviceUnavailable, "too many GET /sessions at once; try again")
                busy.headers[.retryAfter] = "1"
                return busy
            }
            defer { sessionsGate.leave() }
            let filter = SessionFilter(
                clientID: query["client_id"].map(String.init), server: query["server"].map(String.init))
            let (total, page) = await proxy.sessions(matching: filter, offset: offset, limit: limit)
            let next = offset + page.count < total ? offset + page.count : nil
            return json(SessionPage(total: total, offset: offset, limit: limit, next_offset: next, sessions: page))
        }
        router.delete("/sessions/:client_id") { _, context -> Response in
            let clientID = context.parameters.get("client_id") ?? ""
            let closed = await proxy.closeSessions(clientID: clientID)
            guard closed > 0 else { return error(.notFound, "no session with client id `\(clientID)`") }
            logger.notice(
                "sessions closed by operator", metadata: ["client_id": .string(clientID), "count": "\(closed)"])
            return json(["closed": closed])
        }
        // The HTML page's own routes (AdminServer+Page.swift).
        addPageRoutes(to: router, history: history)
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("**", method: method) { request, _ -> Response in
                error(.notFound, "no such endpoint: \(request.method) \(request.uri.path)")
            }
        }
        var adminLogger = logger
        adminLogger.logLevel = max(logger.logLevel, .notice)
        return Application(
            router: router,
            // Idle connections, request heads and bodies that do not arrive whole are closed, so
            // sockets left open cannot hold the connection cap.
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [AdminRequestDeadlineHandler(limit: bodyTimeout)],
                    idleTimeout: idleTimeout)),
            configuration: .init(
                address: .hostname(config.bind.host, port: config.bind.port), serverName: "brokerfront",
                // Bounded so idle admin connections cannot use up the descriptors kept in reserve.
                availableConnectionsDelegate: MaximumAvailableConnections(FileDescriptorLimit.adminConnections)),
            onServerRunning: { channel in
                // Made on the channel's loop: the handler is not Sendable.
                try? await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(AcceptPauseHandler(name: "admin", logger: logger))
                }.get()
                await onRunning(channel.localAddress?.port ?? config.bind.port)
            },
            eventLoopGroupProvider: .shared(group),
            logger: adminLogger)
    }

    struct SessionPage: Encodable {
        var total: Int
        var offset: Int
        var limit: Int
        var next_offset: Int?
        var sessions: [SessionInfo]
    }

    struct ReloadAnswer: Encodable {
        var result: String
        var summary: ReloadSummary?
        var errors: [String]
    }

    struct StateChange: Decodable {
        var state: String
    }

    /// The optional body of `evacuate` and `rebalance`.
    struct MoveRequest: Decodable {
        var rate: Int?
        var server_reference: String?
    }

    /// The request's move body: empty is all defaults; nil when it is not valid (a negative rate,
    /// a Server Reference longer than an MQTT string).
    static func moveBody(_ request: Request) async throws -> MoveRequest? {
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard body.readableBytes > 0 else { return MoveRequest() }
        guard let decoded = try? JSONDecoder().decode(MoveRequest.self, from: Data(buffer: body)) else { return nil }
        if let rate = decoded.rate, rate < 0 { return nil }
        if let reference = decoded.server_reference, reference.utf8.count > 0xFFFF { return nil }
        return decoded
    }

    /// The value as JSON (keys sorted) with `status`.
    static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `{"error": message}` with `status`.
    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(["error": message], status: status)
    }
}
