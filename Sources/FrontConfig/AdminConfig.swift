/// `admin:` — the HTTP admin plane.
public struct AdminConfig: Sendable, Equatable {
    /// `admin.bind` when not written: loopback, port 8404.
    public static let defaultBind = Endpoint(host: "127.0.0.1", port: 8404)
    /// Where the admin plane listens.
    public var bind: Endpoint
    /// When set, state-changing requests and `GET /sessions` need `Authorization: Bearer <token>`; the
    /// value itself, whichever of `token`, `token_file` or `token_env` gave it.
    public var token: String?
    /// Where ``token`` came from (nil when there is none).
    public var tokenSource: AdminTokenSource?
    /// `hosts`: DNS names accepted in the `Host` of mutations and `GET /sessions`, lower-cased, beside
    /// IP literals and `localhost`.
    public var hosts: [String]

    public init(bind: Endpoint, token: String? = nil, tokenSource: AdminTokenSource? = nil, hosts: [String] = []) {
        self.bind = bind
        self.token = token
        self.tokenSource = tokenSource ?? token.map { _ in .inline }
        self.hosts = hosts
    }
}
