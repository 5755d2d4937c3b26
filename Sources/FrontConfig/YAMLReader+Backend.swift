import Yams

/// Decoding of `backends[i]`, its `health_check` and its `servers`.
extension YAMLReader {
    /// The keys allowed at each level; anything else is an "unknown key" issue with a spelling hint.
    static let backendKeys = [
        "name", "balance", "source_ips", "source_ports", "connect_timeout", "retries", "slow_start",
        "send_proxy_protocol",
        "health_check", "on_server_down", "failback", "on_failback", "move_rate",
        "rebalance", "server_reference", "servers",
    ]
    static let healthCheckKeys = [
        "type", "interval", "timeout", "rise", "fall", "send", "expect", "username", "password",
    ]
    static let serverKeys = ["name", "address", "weight", "max_connections", "backup", "source_ips"]

    /// `backends[i]`. Always returns a backend so indices match the file. `balance` is left at its
    /// placeholder when not written; ``ConfigValidator`` picks the default once it knows the listeners.
    mutating func decodeBackend(_ node: Node, path: String) -> BackendConfig {
        var backend = BackendConfig(name: "")
        guard let fields = fields(of: node, path: path, known: Self.backendKeys) else { return backend }
        backend.name = scalar(fields, "name", required: true, ScalarParser.name) ?? ""
        read(&backend.balance, fields, "balance") { text throws(ConfigValueError) in
            try ScalarParser.choice(text, of: BalanceAlgorithm.self)
        }
        backend.sourceIPs = scalarList(fields, "source_ips", EndpointParser.parseIP) ?? []
        backend.sourcePorts = scalar(fields, "source_ports", SourcePortRange.parse)
        read(&backend.connectTimeout, fields, "connect_timeout", Self.positiveDuration)
        read(&backend.retries, fields, "retries", Self.count)
        read(&backend.slowStart, fields, "slow_start", DurationParser.parse)
        read(&backend.sendProxyProtocol, fields, "send_proxy_protocol") { text throws(ConfigValueError) in
            try ScalarParser.choice(text, of: ProxyProtocolVersion.self)
        }
        backend.healthCheck = decodeHealthCheck(fields)
        read(&backend.onServerDown, fields, "on_server_down") { text throws(ConfigValueError) in
            try ScalarParser.choice(text, of: SessionAction.self)
        }
        read(&backend.failback, fields, "failback") { text throws(ConfigValueError) in
            try ScalarParser.choice(text, of: FailbackMode.self)
        }
        read(&backend.onFailback, fields, "on_failback") { text throws(ConfigValueError) in
            try ScalarParser.choice(text, of: SessionAction.self)
        }
        read(&backend.moveRate, fields, "move_rate", Self.count)
        read(&backend.rebalance, fields, "rebalance") { text throws(ConfigValueError) in
            try ScalarParser.choice(text, of: RebalanceMode.self)
        }
        backend.serverReference = scalar(fields, "server_reference", Self.serverReference)
        if let servers = sequence(fields, "servers") {
            if servers.isEmpty { report(at: fields.path(of: "servers"), "a backend needs at least one server") }
            backend.servers = servers.map { decodeServer($0.node, path: $0.path) }
        } else if fields["servers"] == nil || fields["servers"]?.isNull == true {
            let mark = fields["servers"]?.mark ?? fields.mark
            report(mark, path: fields.path(of: "servers"), "a backend needs at least one server")
        }
        return backend
    }

    /// `server_reference`: any text an MQTT 5 client can be given (a UTF-8 string of at most 65,535
    /// bytes, MQTT 5.0 §1.5.4); empty means none.
    static func serverReference(_ text: String) throws(ConfigValueError) -> String {
        guard text.utf8.count <= 0xFFFF else {
            throw ConfigValueError("is \(text.utf8.count) bytes; MQTT allows at most 65535")
        }
        return text
    }

    /// `health_check:`; `type` defaults to `tcp` (a plain connect, as HAProxy's `check`). `send`/`expect`
    /// belong to send-expect only, `username`/`password` to mqtt and redis-master only.
    private mutating func decodeHealthCheck(_ fields: YAMLFields) -> HealthCheckConfig? {
        guard let fields = section(fields, "health_check", known: Self.healthCheckKeys) else { return nil }
        var check = HealthCheckConfig(type: .tcp)
        read(&check.type, fields, "type") { text throws(ConfigValueError) in
            try ScalarParser.choice(text, of: HealthCheckType.self)
        }
        read(&check.interval, fields, "interval", Self.positiveDuration)
        read(&check.timeout, fields, "timeout", Self.positiveDuration)
        read(&check.rise, fields, "rise", Self.positiveCount)
        read(&check.fall, fields, "fall", Self.positiveCount)
        let isSendExpect = check.type == .sendExpect
        check.send = scalar(fields, "send", ScalarParser.escapedBytes)
        check.expect = scalar(fields, "expect", ScalarParser.text)
        for key in ["send", "expect"] where isSendExpect && fields[key]?.isNull ?? true {
            let what = key == "send" ? "the bytes to write, e.g. 'PING\\r\\n'" : "text the reply must contain"
            report(
                fields[key]?.mark ?? fields.mark, path: fields.path(of: key),
                "send-expect checks need `\(key)` (\(what))")
        }
        check.username = scalar(fields, "username", ScalarParser.text)
        check.password = scalar(fields, "password", ScalarParser.text)
        let typePath = fields.path(of: "type")
        guard marks[typePath] == nil || isUsable(typePath) else { return check }
        let credentialTypes: [HealthCheckType] = [.mqtt, .redisMaster]
        let type = check.type.rawValue
        for key in ["send", "expect"] where !isSendExpect && fields[key] != nil {
            report(at: fields.path(of: key), "`\(key)` is only used by send-expect checks (type is \(type))")
        }
        for key in ["username", "password"] where !credentialTypes.contains(check.type) && fields[key] != nil {
            report(
                at: fields.path(of: key),
                "`\(key)` is only used by mqtt and redis-master checks (type is \(type))")
        }
        return check
    }

    /// `servers[j]`. `name` defaults to the address as written, so log lines and metrics still name it.
    private mutating func decodeServer(_ node: Node, path: String) -> ServerConfig {
        var server = ServerConfig(name: "", address: Endpoint(host: "", port: 0))
        guard let fields = fields(of: node, path: path, known: Self.serverKeys) else { return server }
        server.address = scalar(fields, "address", required: true, EndpointParser.parseServer) ?? server.address
        server.name = scalar(fields, "name", ScalarParser.name) ?? server.address.description
        read(&server.weight, fields, "weight") { text throws(ConfigValueError) in
            try ScalarParser.integer(text, in: 0...256)
        }
        read(&server.maxConnections, fields, "max_connections", Self.count)
        read(&server.backup, fields, "backup", ScalarParser.bool)
        server.sourceIPs = scalarList(fields, "source_ips", EndpointParser.parseIP) ?? []
        return server
    }
}
