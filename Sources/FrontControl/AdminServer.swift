import Foundation
import FrontConfig
import FrontCore
import FrontProxy
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The admin HTTP plane (Hummingbird 2), built as an `Application`, which is itself a Service run
/// in the front's ServiceGroup:
/// `GET /status` (JSON), `GET /metrics` (Prometheus text), `POST /backends/{b}/failback`,
/// `POST /backends/{b}/servers/{s}/state`. With `admin.token`, POSTs need `Authorization: Bearer`.
public enum AdminServer {
    /// Builds the application bound to `config.bind`. `onRunning` receives the bound port (useful with port 0).
    public static func make(
        config: AdminConfig,
        proxy: FrontProxy,
        registry: PrometheusCollectorRegistry,
        group: any EventLoopGroup,
        logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/status") { _, _ -> Response in
            json(StatusReport(proxy: proxy))
        }
        router.get("/metrics") { _, _ -> Response in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.post("/backends/:backend/failback") { request, context -> Response in
            if let refusal = unauthorized(request, token: config.token) { return refusal }
            let name = context.parameters.get("backend") ?? ""
            guard proxy.events.operatorFailback(backend: name) else {
                return error(.notFound, "no backend named `\(name)`")
            }
            logger.notice("operator failback", metadata: ["backend": .string(name)])
            return json(StatusReport(proxy: proxy).backends.first { $0.name == name })
        }
        router.post("/backends/:backend/servers/:server/state") { request, context -> Response in
            if let refusal = unauthorized(request, token: config.token) { return refusal }
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
        var adminLogger = logger
        adminLogger.logLevel = max(logger.logLevel, .notice)
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(config.bind.host, port: config.bind.port), serverName: "brokerfront"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? config.bind.port) },
            eventLoopGroupProvider: .shared(group),
            logger: adminLogger)
    }

    struct StateChange: Decodable {
        var state: String
    }

    /// A 401 when a token is configured and the request does not carry it.
    static func unauthorized(_ request: Request, token: String?) -> Response? {
        guard let token else { return nil }
        if request.headers[.authorization] == "Bearer \(token)" { return nil }
        return error(.unauthorized, "missing or wrong `Authorization: Bearer` token")
    }

    static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(["error": message], status: status)
    }
}
