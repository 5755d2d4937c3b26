import Foundation
import FrontConfig
import FrontProxy
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The admin HTTP plane (Hummingbird 2): `GET /status` (JSON) and `GET /metrics` (Prometheus text).
/// Built as a Hummingbird `Application`, which is itself a Service run in the front's ServiceGroup.
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
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = (try? encoder.encode(StatusReport(proxy: proxy))) ?? Data("{}".utf8)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/metrics") { _, _ -> Response in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        var adminLogger = logger
        adminLogger.logLevel = min(logger.logLevel, .notice) == .notice ? .notice : logger.logLevel
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(config.bind.host, port: config.bind.port), serverName: "brokerfront"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? config.bind.port) },
            eventLoopGroupProvider: .shared(group),
            logger: adminLogger)
    }
}
