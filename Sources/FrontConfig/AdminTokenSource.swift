/// Where the admin token was read from (`admin.token`, `admin.token_file` or `admin.token_env`).
public enum AdminTokenSource: Sendable, Equatable {
    /// `token:` in the file.
    case inline
    /// `token_file:` (the path resolved against the config file's directory).
    case file(String)
    /// `token_env:` (the variable's name).
    case environment(String)
}

extension AdminConfig {
    /// A warning for `check` and `run` when the plane listens beyond loopback with no token; nil otherwise.
    public var exposureWarning: String? {
        guard token == nil, !EndpointParser.isLoopback(bind.host) else { return nil }
        return "admin.bind \(bind) is not a loopback address and no admin token is set: POST and DELETE are "
            + "refused to every peer but loopback ones; set admin.token, admin.token_file or admin.token_env"
    }
}
