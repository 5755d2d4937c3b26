import Yams

/// Decoding of `listeners[i]` and its sections (`tls`, `limits`, `client_ids`).
extension YAMLReader {
    /// The keys allowed at each level; anything else is an "unknown key" issue with a spelling hint.
    static let listenerKeys = [
        "name", "bind", "protocol", "backend", "reuse_port", "max_connections", "accept_proxy_protocol", "tls",
        "idle_timeout", "connect_timeout", "max_connect_size", "keepalive_factor", "keepalive_min", "keepalive_max",
        "limits", "client_ids",
    ]
    static let tlsKeys = ["certificate", "private_key", "client_ca"]
    static let limitsKeys = ["per_source_ip", "accept_rate", "max_pending_connect_bytes"]
    static let proxyProtocolKeys = ["trusted"]
    /// `max_pending_connect_bytes`: at most 1 TiB (a typo's guard); at least `max_connect_size`.
    static let pendingConnectRange = 16...(1 << 40)
    static let clientIDKeys = ["allow", "deny"]
    /// MQTT CONNECT bounds: 16 bytes is less than the smallest valid CONNECT header; 16MiB caps the buffer.
    static let connectSizeRange = 16...(16 << 20)

    /// `listeners[i]`. Always returns a listener so indices match the file; placeholders where values are bad.
    mutating func decodeListener(_ node: Node, path: String) -> ListenerConfig {
        var listener = ListenerConfig(name: "", bind: Endpoint(host: "", port: 0), backend: "")
        guard let fields = fields(of: node, path: path, known: Self.listenerKeys) else { return listener }
        listener.name = scalar(fields, "name", required: true, ScalarParser.name) ?? ""
        listener.bind = scalar(fields, "bind", required: true, EndpointParser.parseBind) ?? listener.bind
        listener.backend = scalar(fields, "backend", required: true, ScalarParser.name) ?? ""
        read(&listener.protocol, fields, "protocol") { text throws(ConfigValueError) in
            try ScalarParser.choice(text, of: ListenerProtocol.self)
        }
        read(&listener.reusePort, fields, "reuse_port", ScalarParser.bool)
        read(&listener.maxConnections, fields, "max_connections", Self.count)
        decodeProxyProtocol(&listener, fields)
        listener.tls = decodeTLS(fields)
        read(&listener.idleTimeout, fields, "idle_timeout", DurationParser.parse)
        read(&listener.connectTimeout, fields, "connect_timeout", Self.positiveDuration)
        read(&listener.maxConnectSize, fields, "max_connect_size") { text throws(ConfigValueError) in
            let size = try SizeParser.parse(text)
            guard Self.connectSizeRange.contains(size) else {
                throw ConfigValueError("`\(text)` is out of range; use 16 bytes to 16MiB")
            }
            return size
        }
        read(&listener.keepaliveFactor, fields, "keepalive_factor", ScalarParser.positiveNumber)
        read(&listener.keepaliveMin, fields, "keepalive_min", DurationParser.parse)
        read(&listener.keepaliveMax, fields, "keepalive_max", DurationParser.parse)
        checkKeepaliveBounds(listener, fields)
        if let limits = section(fields, "limits", known: Self.limitsKeys) {
            read(&listener.limits.perSourceIP, limits, "per_source_ip", Self.count)
            read(&listener.limits.acceptRate, limits, "accept_rate", Self.count)
            read(&listener.limits.maxPendingConnectBytes, limits, "max_pending_connect_bytes") {
                text throws(ConfigValueError) in
                let size = try SizeParser.parse(text)
                guard Self.pendingConnectRange.contains(size) else {
                    throw ConfigValueError("`\(text)` is out of range; use 16 bytes to 1024GiB")
                }
                return size
            }
        }
        checkPendingConnectBytes(listener, fields)
        if let filter = section(fields, "client_ids", known: Self.clientIDKeys) {
            listener.clientIDs.allow = scalarList(filter, "allow", ScalarParser.text) ?? listener.clientIDs.allow
            listener.clientIDs.deny = scalarList(filter, "deny", ScalarParser.text) ?? listener.clientIDs.deny
        }
        return listener
    }

    /// `tls:`; each file must exist, be readable and look like PEM. Relative paths are resolved against the
    /// config file's directory and stored resolved.
    private mutating func decodeTLS(_ fields: YAMLFields) -> TLSConfig? {
        guard let tls = section(fields, "tls", known: Self.tlsKeys) else { return nil }
        let directory = baseDirectory
        let pem: (String) throws(ConfigValueError) -> String = { text throws(ConfigValueError) in
            try TextFile.pem(text, relativeTo: directory)
        }
        let certificate = scalar(tls, "certificate", required: true, pem)
        let privateKey = scalar(tls, "private_key", required: true, pem)
        let clientCA = scalar(tls, "client_ca", pem)
        return TLSConfig(certificate: certificate ?? "", privateKey: privateKey ?? "", clientCA: clientCA)
    }

    /// `accept_proxy_protocol`: `true`/`false`, or `{trusted: [CIDR, ...]}` (on, from those senders only).
    private mutating func decodeProxyProtocol(_ listener: inout ListenerConfig, _ fields: YAMLFields) {
        guard case .mapping = fields["accept_proxy_protocol"] else {
            read(&listener.acceptProxyProtocol, fields, "accept_proxy_protocol", ScalarParser.bool)
            return
        }
        guard let section = section(fields, "accept_proxy_protocol", known: Self.proxyProtocolKeys) else { return }
        listener.acceptProxyProtocol = true
        let networks = scalarList(section, "trusted") { text throws(ConfigValueError) in
            guard let network = IPNetwork(text) else {
                throw ConfigValueError("`\(text)` is not an IP network; write it as 10.0.0.0/8, 127.0.0.1 or ::1/128")
            }
            return network
        }
        guard let networks else {
            report(section.mark, path: section.path(of: "trusted"), "missing required key `trusted`")
            return
        }
        if section["trusted"]?.sequence?.isEmpty == true {
            report(at: section.path(of: "trusted"), "list at least one network, or write `accept_proxy_protocol: true`")
        }
        listener.trustedProxies = networks
    }

    /// `max_pending_connect_bytes` ≥ `max_connect_size`: a whole CONNECT must fit in the budget.
    private mutating func checkPendingConnectBytes(_ listener: ListenerConfig, _ fields: YAMLFields) {
        guard listener.limits.maxPendingConnectBytes < listener.maxConnectSize else { return }
        let budgetPath = fields.path(of: "limits") + ".max_pending_connect_bytes"
        let sizePath = fields.path(of: "max_connect_size")
        let path = marks[budgetPath] != nil ? budgetPath : sizePath
        guard isUsable(path) else { return }
        report(
            at: path,
            "max_pending_connect_bytes (\(listener.limits.maxPendingConnectBytes)) is smaller than max_connect_size "
                + "(\(listener.maxConnectSize)): no CONNECT of that size could ever arrive")
    }

    /// `keepalive_min` ≤ `keepalive_max`, reported at whichever of the two is written (max when both are).
    private mutating func checkKeepaliveBounds(_ listener: ListenerConfig, _ fields: YAMLFields) {
        guard listener.keepaliveMin > listener.keepaliveMax else { return }
        let minPath = fields.path(of: "keepalive_min")
        let maxPath = fields.path(of: "keepalive_max")
        let written = [maxPath, minPath].filter { marks[$0] != nil }
        guard let path = written.first, written.allSatisfy(isUsable) else { return }
        let min = DurationParser.format(listener.keepaliveMin)
        let max = DurationParser.format(listener.keepaliveMax)
        report(at: path, "keepalive_min (\(min)) is greater than keepalive_max (\(max))")
    }

    /// A count or cap: a whole number ≥ 0 (0 usually meaning "none").
    static func count(_ text: String) throws(ConfigValueError) -> Int {
        try ScalarParser.integer(text, atLeast: 0)
    }

    /// A count that must be at least one (`rise`, `fall`).
    static func positiveCount(_ text: String) throws(ConfigValueError) -> Int {
        try ScalarParser.integer(text, atLeast: 1)
    }

    /// A timeout that must not be zero (every wait has a bound, and a zero bound would refuse everything).
    static func positiveDuration(_ text: String) throws(ConfigValueError) -> Duration {
        let duration = try DurationParser.parse(text)
        guard duration > .zero else { throw ConfigValueError("must be greater than 0, got `\(text)`") }
        return duration
    }
}
