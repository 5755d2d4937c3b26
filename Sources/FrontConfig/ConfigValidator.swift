/// The checks that span several parts of the file, run after ``YAMLReader`` decoded each part on its own:
/// unique names, listener → backend references, balance algorithms that need MQTT, overlapping binds, and
/// the default `balance`.
///
/// Values that already had a problem are skipped (``YAMLReader/isUsable(_:)``), so one typo yields one
/// issue. Duplicates are reported at the second occurrence and name the first one's line. Pure; runs on
/// the loader's thread.
enum ConfigValidator {
    /// Adds cross-check issues to `reader` and fills in defaults that depend on other sections.
    static func check(_ config: inout FrontConfiguration, reader: inout YAMLReader) {
        let listenerNames = config.listeners.indices.map { "listeners[\($0)].name" }
        checkUnique(config.listeners.map(\.name), paths: listenerNames, what: "listener", reader: &reader)
        let backendNames = config.backends.indices.map { "backends[\($0)].name" }
        checkUnique(config.backends.map(\.name), paths: backendNames, what: "backend", reader: &reader)
        for (index, backend) in config.backends.enumerated() {
            let paths = backend.servers.indices.map { server in
                let name = "backends[\(index)].servers[\(server)].name"
                return reader.marks[name] != nil ? name : "backends[\(index)].servers[\(server)].address"
            }
            checkUnique(backend.servers.map(\.name), paths: paths, what: "server", reader: &reader) { name, line in
                "server `\(name)` is listed twice (first on line \(line)); a server without `name` is named by its "
                    + "address, so name them to keep both"
            }
        }
        checkBackendReferences(config, reader: &reader)
        applyBalance(&config, reader: &reader)
        checkBinds(config, reader: &reader)
        checkSourcePorts(config, reader: &reader)
    }

    /// `source_ports` picks ports for source IPs, so every server of the backend needs some.
    private static func checkSourcePorts(_ config: FrontConfiguration, reader: inout YAMLReader) {
        for (index, backend) in config.backends.enumerated() where backend.sourcePorts != nil {
            let path = "backends[\(index)].source_ports"
            guard reader.isUsable(path), backend.sourceIPs.isEmpty else { continue }
            if let server = backend.servers.first(where: { $0.sourceIPs.isEmpty }) {
                reader.report(
                    at: path,
                    "source_ports needs source_ips (server `\(server.name)` has none); the front binds each "
                        + "upstream connection to a source IP and a port of this range")
            }
        }
    }

    /// Each name once; the second and later occurrences are reported.
    /// `unnamed` words the message when the path is an address standing in for a missing `name`.
    private static func checkUnique(
        _ names: [String], paths: [String], what: String, reader: inout YAMLReader,
        unnamed: (String, Int) -> String = { _, _ in "" }
    ) {
        var firstLine: [String: Int] = [:]
        for (name, path) in zip(names, paths) where reader.isUsable(path) {
            let line = reader.marks[path]?.line ?? 1
            if let first = firstLine[name] {
                let message =
                    path.hasSuffix(".address")
                    ? unnamed(name, first) : "duplicate \(what) name `\(name)` (first defined on line \(first))"
                reader.report(at: path, message)
            } else {
                firstLine[name] = line
            }
        }
    }

    /// Every listener's `backend` names a backend that exists.
    private static func checkBackendReferences(_ config: FrontConfiguration, reader: inout YAMLReader) {
        let names = config.backends.map(\.name).filter { !$0.isEmpty }
        for (index, listener) in config.listeners.enumerated() {
            let path = "listeners[\(index)].backend"
            guard reader.isUsable(path), config.backend(named: listener.backend) == nil else { continue }
            var hint = Suggestion.hint(for: listener.backend, among: names)
            if hint.isEmpty {
                hint = names.isEmpty ? "; no backends are defined" : "; defined: \(names.joined(separator: ", "))"
            }
            reader.report(at: path, "no backend named `\(listener.backend)`\(hint)")
        }
    }

    /// Refuses `client-id`/`username` balancing behind a tcp listener (there is no CONNECT to read), and
    /// picks the default where `balance` is not written: `client-id` when only mqtt listeners use the
    /// backend (or none do), else `round-robin`.
    private static func applyBalance(_ config: inout FrontConfiguration, reader: inout YAMLReader) {
        for index in config.backends.indices {
            let backend = config.backends[index]
            let tcpListeners = config.listeners.filter {
                !backend.name.isEmpty && $0.backend == backend.name && $0.protocol == .tcp
            }
            let path = "backends[\(index)].balance"
            if reader.marks[path] == nil {
                config.backends[index].balance = tcpListeners.isEmpty ? .clientID : .roundRobin
            } else if reader.isUsable(path), backend.balance.needsMQTT, let listener = tcpListeners.first {
                reader.report(
                    at: path,
                    "balance `\(backend.balance.rawValue)` needs an mqtt listener, but tcp listener `\(listener.name)` "
                        + "uses this backend; use source-ip, round-robin, least-connections or first")
            }
        }
    }

    /// Two sockets on overlapping addresses and the same port cannot both listen unless both set
    /// `reuse_port`. `0.0.0.0` overlaps every IPv4 address and `::` every address (dual-stack); port 0 never
    /// clashes. The admin bind takes part too. Reported at whichever bind comes later in the file.
    private static func checkBinds(_ config: FrontConfiguration, reader: inout YAMLReader) {
        typealias Bind = (endpoint: Endpoint, reusePort: Bool, owner: String, path: String)
        var binds: [Bind] = config.listeners.enumerated().map { index, listener in
            (listener.bind, listener.reusePort, "listener `\(listener.name)`", "listeners[\(index)].bind")
        }
        if let admin = config.admin { binds.append((admin.bind, false, "the admin plane", "admin.bind")) }
        let usable = binds.filter { reader.isUsable($0.path) }
            .sorted { (reader.marks[$0.path]?.line ?? 0) < (reader.marks[$1.path]?.line ?? 0) }
        for (later, bind) in usable.enumerated() {
            let clashing = usable[..<later].first { other in
                bind.endpoint.port != 0 && other.endpoint.port == bind.endpoint.port
                    && overlaps(other.endpoint.host, bind.endpoint.host) && !(other.reusePort && bind.reusePort)
            }
            guard let earlier = clashing else { continue }
            let line = reader.marks[earlier.path]?.line ?? 1
            let bothListeners = earlier.path != "admin.bind" && bind.path != "admin.bind"
            let remedy =
                bothListeners ? "use another address or port, or set reuse_port: true on both" : "use another port"
            reader.report(
                at: bind.path,
                "`\(bind.endpoint)` clashes with \(earlier.owner) bound to `\(earlier.endpoint)` on line \(line); \(remedy)"
            )
        }
    }

    /// Whether two bind hosts cover a common address.
    private static func overlaps(_ lhs: String, _ rhs: String) -> Bool {
        if lhs == rhs || lhs == "::" || rhs == "::" { return true }
        if lhs == "0.0.0.0" { return !rhs.contains(":") }
        if rhs == "0.0.0.0" { return !lhs.contains(":") }
        return false
    }
}
