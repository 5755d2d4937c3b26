import FrontConfig

/// Who may do what on the admin plane: the decision behind ``AdminGuardMiddleware``, kept pure so
/// every rule is tested without sockets. Redis's protected mode is the model.
///
/// - A request with an `Origin` other than the plane's own (`http://` or `https://` and its `Host`) is
///   refused: a page elsewhere may not drive the plane from a browser.
/// - Plain reads (`GET /`, `/status`, `/metrics`, `/healthz`) need nothing more.
/// - Mutations (every method but GET, HEAD and OPTIONS) and `GET /sessions` need a `Host` that is an
///   IP literal, `localhost` or listed in `admin.hosts` (a DNS-rebinding guard), and the token when one
///   is set. Without a token, mutations are served to loopback peers only.
/// - Mutations need `Content-Type: application/json`, which a cross-site form cannot send.
public enum AdminGuard {
    /// What a request does, which decides what it must show.
    public enum Kind: Sendable, Equatable {
        /// `/`, `/status`, `/metrics`, `/healthz` and any other GET: open to anyone who reaches the plane.
        case read
        /// `GET /sessions`: client ids and addresses, so guarded like a mutation (no loopback rule).
        case sessions
        /// POST, DELETE and any other method that may change something.
        case mutation
    }

    /// What the guard looks at in a request; header values as received, nil when absent.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var host: String?
        public var origin: String?
        public var contentType: String?
        public var authorization: String?
        /// The peer's IP address as text (`127.0.0.1`, `::1`); nil when unknown.
        public var peer: String?

        public init(
            method: String, path: String, host: String? = nil, origin: String? = nil, contentType: String? = nil,
            authorization: String? = nil, peer: String? = nil
        ) {
            self.method = method
            self.path = path
            self.host = host
            self.origin = origin
            self.contentType = contentType
            self.authorization = authorization
            self.peer = peer
        }
    }

    /// An answer in place of the endpoint's: HTTP status and the JSON `error` text.
    public struct Refusal: Sendable, Equatable {
        public var status: Int
        public var message: String
    }

    /// What `method` on `path` does.
    public static func kind(method: String, path: String) -> Kind {
        switch method.uppercased() {
        case "GET", "HEAD", "OPTIONS":
            return path == "/sessions" || path.hasPrefix("/sessions/") || path.hasPrefix("/sessions?")
                ? .sessions : .read
        default:
            return .mutation
        }
    }

    /// Nil when `request` may go on to its endpoint; else the refusal to answer with. `token` is the one
    /// in force (nil: none set), `hosts` the lower-cased `admin.hosts`.
    public static func refusal(for request: Request, token: String?, hosts: [String]) -> Refusal? {
        if let origin = request.origin, !isOwnOrigin(origin, host: request.host) {
            return Refusal(
                status: 403,
                message: "requests from a page at another origin (`\(origin)`) are refused; "
                    + "call the admin plane directly")
        }
        let kind = kind(method: request.method, path: request.path)
        if kind == .read { return nil }
        guard let host = request.host, isAllowedHost(host, hosts: hosts) else {
            return Refusal(
                status: 403,
                message: "Host `\(request.host ?? "")` is not an IP address, localhost or a name in admin.hosts; "
                    + "add the name to admin.hosts to reach the admin plane by it")
        }
        if let token {
            guard AdminToken.matches(request.authorization, token: token) else {
                return Refusal(status: 401, message: "missing or wrong `Authorization: Bearer` token")
            }
        } else if kind == .mutation, !(request.peer.map(EndpointParser.isLoopback) ?? false) {
            return Refusal(
                status: 403,
                message: "no admin token is set, so POST and DELETE are served to loopback peers only; "
                    + "set admin.token, admin.token_file or admin.token_env and send `Authorization: Bearer <token>`")
        }
        if kind == .mutation, !isJSON(request.contentType) {
            return Refusal(status: 415, message: "POST and DELETE need `Content-Type: application/json`")
        }
        return nil
    }

    /// Whether `origin` is the plane's own: its scheme and the request's `Host`, compared without case.
    static func isOwnOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, !host.isEmpty else { return false }
        let origin = origin.lowercased()
        let own = host.lowercased()
        return origin == "http://\(own)" || origin == "https://\(own)"
    }

    /// Whether the name in `host` (a `Host` header: `name`, `name:port`, `[v6]:port`) is an IP literal,
    /// `localhost`, or one of `hosts`.
    static func isAllowedHost(_ host: String, hosts: [String]) -> Bool {
        var name = Substring(host.lowercased())
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            name = name[name.index(after: name.startIndex)..<close]
            return EndpointParser.isIPv6(String(name))
        }
        if let colon = name.firstIndex(of: ":") {
            // More than one colon without brackets is no `Host` a browser sends.
            guard !name[name.index(after: colon)...].contains(":") else { return false }
            name = name[..<colon]
        }
        if name.hasSuffix(".") { name = name.dropLast() }
        let text = String(name)
        return EndpointParser.isIPv4(text) || text == "localhost" || hosts.contains(text)
    }

    /// Whether a `Content-Type` value is `application/json` (parameters such as `charset` allowed).
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.prefix { $0 != ";" }.filter { $0 != " " && $0 != "\t" }
        return mediaType.lowercased() == "application/json"
    }
}
