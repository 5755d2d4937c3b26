import Hummingbird
import NIOCore

/// Applies ``AdminGuard`` to every request before its route: a refusal is answered as JSON
/// `{"error": ...}` and the endpoint never runs. Added to the router before any route, so routes added
/// later are guarded too. The token and host names are read per request (a reload replaces them).
struct AdminGuardMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    let access: AdminToken

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let facts = AdminGuard.Request(
            method: request.method.rawValue, path: request.uri.path, host: request.head.authority,
            origin: request.headers[.origin], contentType: request.headers[.contentType],
            authorization: request.headers[.authorization], peer: context.remoteAddress?.ipAddress)
        guard let refusal = AdminGuard.refusal(for: facts, token: access.current, hosts: access.hosts) else {
            return try await next(request, context)
        }
        return AdminServer.error(HTTPResponse.Status(code: refusal.status), refusal.message)
    }
}

/// The admin plane's request context: Hummingbird's basic one plus the peer's address, which the
/// loopback rule of ``AdminGuard`` needs.
struct AdminRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's per-request storage.
    var coreContext: CoreRequestContextStorage
    /// The connected peer.
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
