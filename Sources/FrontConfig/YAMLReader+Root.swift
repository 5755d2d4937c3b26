import Yams

/// Decoding of the document root and its small sections (`admin`, `log`).
extension YAMLReader {
    /// The keys allowed at each level; anything else is an "unknown key" issue with a spelling hint.
    static let rootKeys = [
        "admin", "log", "drain_timeout", "max_connections", "relay_threads", "relay_slice", "relay_spread",
        "relay_assist", "relay_connect", "relay_accept", "watch",
        "listeners", "backends",
    ]
    static let adminKeys = ["bind", "token", "token_file", "token_env", "hosts"]
    static let logKeys = ["level", "format"]

    /// Decodes the whole document. Always returns a configuration; when ``issues`` is not empty it holds
    /// placeholders where values were missing or bad and must not be used.
    mutating func decodeRoot(_ root: Node?) -> FrontConfiguration {
        var config = FrontConfiguration()
        let fields: YAMLFields
        if let root, !root.isNull {
            guard let decoded = self.fields(of: root, path: "", known: Self.rootKeys) else { return config }
            fields = decoded
        } else {
            fields = YAMLFields(path: "", mark: nil)
        }
        config.admin = decodeAdmin(fields)
        if let log = section(fields, "log", known: Self.logKeys) {
            read(&config.log.level, log, "level") { text throws(ConfigValueError) in
                try ScalarParser.choice(text, of: LogConfig.Level.self)
            }
            read(&config.log.format, log, "format") { text throws(ConfigValueError) in
                try ScalarParser.choice(text, of: LogConfig.Format.self)
            }
        }
        read(&config.drainTimeout, fields, "drain_timeout", DurationParser.parse)
        read(&config.maxConnections, fields, "max_connections") { text throws(ConfigValueError) in
            try ScalarParser.integer(text, atLeast: 1)
        }
        read(&config.relayThreads, fields, "relay_threads") { text throws(ConfigValueError) in
            text == "auto" ? nil : try ScalarParser.integer(text, in: 0...64)
        }
        read(&config.relaySlice, fields, "relay_slice") { text throws(ConfigValueError) in
            let slice = try DurationParser.parse(text)
            let range = FrontConfiguration.relaySliceRange
            guard slice == .zero || range.contains(slice) else {
                throw ConfigValueError(
                    "`\(text)`: a relay thread's time slice is 0 (kernel default) or between "
                        + "\(DurationParser.format(range.lowerBound)) and \(DurationParser.format(range.upperBound))")
            }
            return slice
        }
        read(&config.relaySpread, fields, "relay_spread") { text throws(ConfigValueError) in
            let after = try DurationParser.parse(text)
            guard after == .zero || after >= .milliseconds(100) else {
                throw ConfigValueError(
                    "`\(text)`: sessions move to another relay thread after 100ms at the soonest; 0 turns it off")
            }
            return after
        }
        read(&config.relayAssist, fields, "relay_assist") { text throws(ConfigValueError) in
            text == "auto" ? nil : try ScalarParser.bool(text)
        }
        // Removed keys still load (they are in users' files), whatever their value; a warning names them.
        config.ignoredKeys = FrontConfiguration.removedKeys.filter { fields[$0] != nil }
        read(&config.watch, fields, "watch", ScalarParser.bool)
        config.listeners = decodeList(fields, "listeners", what: "listener") { reader, node, path in
            reader.decodeListener(node, path: path)
        }
        config.backends = decodeList(fields, "backends", what: "backend") { reader, node, path in
            reader.decodeBackend(node, path: path)
        }
        return config
    }

    /// `admin:`; nil when absent.
    private mutating func decodeAdmin(_ fields: YAMLFields) -> AdminConfig? {
        guard let admin = section(fields, "admin", known: Self.adminKeys) else { return nil }
        let bind = scalar(admin, "bind", EndpointParser.parseBind)
        let token = decodeAdminToken(admin)
        return AdminConfig(
            bind: bind ?? AdminConfig.defaultBind, token: token?.value, tokenSource: token?.source,
            hosts: scalarList(admin, "hosts", ScalarParser.adminHost) ?? [])
    }

    /// A required, non-empty list of mappings (`listeners`, `backends`), one decoded element per entry so
    /// indices in the model match indices in key paths.
    private mutating func decodeList<Element>(
        _ fields: YAMLFields, _ key: String, what: String,
        _ decode: (inout Self, Node, String) -> Element
    ) -> [Element] {
        guard let elements = sequence(fields, key) else {
            if fields[key] == nil || fields[key]?.isNull == true {
                report(fields[key]?.mark ?? fields.mark, path: fields.path(of: key), "at least one \(what) is required")
            }
            return []
        }
        if elements.isEmpty {
            report(at: fields.path(of: key), "at least one \(what) is required")
        }
        return elements.map { decode(&self, $0.node, $0.path) }
    }
}
