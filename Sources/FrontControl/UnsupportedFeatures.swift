import FrontConfig

/// Settings that validate but whose behaviour has not landed yet; `run` logs each one at start
/// so nobody believes a setting is in force when it is not.
public enum UnsupportedFeatures {
    /// One entry per setting in use that is still ignored, as its key path.
    public static func notes(for configuration: FrontConfiguration) -> [String] {
        var notes: [String] = []
        for (index, listener) in configuration.listeners.enumerated() {
            let path = "listeners[\(index)]"
            if listener.tls != nil { notes.append("\(path).tls") }
            if listener.acceptProxyProtocol { notes.append("\(path).accept_proxy_protocol") }
            if listener.limits.perSourceIP > 0 { notes.append("\(path).limits.per_source_ip") }
            if listener.limits.acceptRate > 0 { notes.append("\(path).limits.accept_rate") }
            if listener.clientIDs != ClientIDFilter() { notes.append("\(path).client_ids") }
        }
        for (index, backend) in configuration.backends.enumerated() {
            let path = "backends[\(index)]"
            if backend.slowStart > .zero { notes.append("\(path).slow_start") }
            if backend.sendProxyProtocol != .none { notes.append("\(path).send_proxy_protocol") }
        }
        return notes
    }
}
