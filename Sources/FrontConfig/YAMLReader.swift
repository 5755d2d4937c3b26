import Yams

/// Walks a composed YAML tree for ``ConfigLoader``: checks node kinds and keys, converts scalars, and records
/// every problem as a ``ConfigIssue`` instead of stopping at the first.
///
/// It also remembers where each value it read sits (``marks``, by key path) so the cross-checks that run after
/// decoding (``ConfigValidator``) can point at the right line. One reader per load; not shared across threads.
struct YAMLReader {
    /// Every problem found so far, in the order found.
    private(set) var issues: [ConfigIssue] = []
    /// Where each value that was read sits, by key path (`listeners[0].bind`).
    private(set) var marks: [String: Mark] = [:]
    /// Paths that already have an issue, so cross-checks do not add a second complaint about a bad value.
    private var flagged: Set<String> = []
    /// Relative file paths in the configuration (TLS files) are resolved against this directory.
    let baseDirectory: String
    /// The environment `admin.token_env` names a variable of.
    let environment: [String: String]

    /// A reader with no issues yet; `baseDirectory` is the config file's directory.
    init(baseDirectory: String, environment: [String: String] = [:]) {
        self.baseDirectory = baseDirectory
        self.environment = environment
    }

    /// Records a problem at `mark` (1:1 when the node has none). An empty path means the document root.
    mutating func report(_ mark: Mark?, path: String, _ message: String) {
        let shownPath = path.isEmpty ? "(root)" : path
        issues.append(ConfigIssue(line: mark?.line ?? 1, column: mark?.column ?? 1, path: shownPath, message: message))
        flagged.insert(path)
    }

    /// Records a problem at the value already read at `path`.
    mutating func report(at path: String, _ message: String) {
        report(marks[path], path: path, message)
    }

    /// Whether a value was read at `path` and had no problem, so cross-checks may rely on it.
    func isUsable(_ path: String) -> Bool {
        marks[path] != nil && !flagged.contains(path)
    }

    /// The keys and values of a mapping node, after reporting unknown keys (with a spelling hint) and
    /// applying YAML merge keys (`<<: *defaults`). Returns nil, after reporting, when `node` is not a mapping.
    mutating func fields(of node: Node, path: String, known: [String]) -> YAMLFields? {
        marks[path] = node.mark
        guard case .mapping(let mapping) = node else {
            report(node.mark, path: path, "expected a mapping of keys, found \(node.kindDescription)")
            return nil
        }
        var fields = YAMLFields(path: path, mark: node.mark)
        var mergeSources: [Node] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let key) = keyNode else {
                report(keyNode.mark, path: path, "keys must be plain words, found \(keyNode.kindDescription)")
                continue
            }
            if key.string == "<<" && key.style == .plain {
                mergeSources += value.sequence.map(Array.init) ?? [value]
                continue
            }
            add(key.string, keyNode: keyNode, value: value, to: &fields, known: known)
        }
        for source in mergeSources {
            guard case .mapping(let merged) = source else {
                report(source.mark, path: path, "`<<` needs a mapping or a list of mappings to merge")
                continue
            }
            for (keyNode, value) in merged {
                guard let key = keyNode.scalar?.string, fields[key] == nil else { continue }
                add(key, keyNode: keyNode, value: value, to: &fields, known: known)
            }
        }
        return fields
    }

    /// A nested mapping under `key` (`tls`, `limits`, …): nil when absent, null or not a mapping.
    mutating func section(_ fields: YAMLFields, _ key: String, known: [String]) -> YAMLFields? {
        guard let node = fields[key], !node.isNull else { return nil }
        return self.fields(of: node, path: fields.path(of: key), known: known)
    }

    /// Converts the scalar under `key`. Absent or null: nil, and a "missing" issue at the enclosing mapping
    /// (absent) or at the value (null) when `required`. A conversion failure is reported at the value.
    mutating func scalar<Value>(
        _ fields: YAMLFields, _ key: String, required: Bool = false,
        _ convert: (String) throws(ConfigValueError) -> Value
    ) -> Value? {
        let path = fields.path(of: key)
        guard let node = fields[key] else {
            if required { report(fields.mark, path: path, "missing required key `\(key)`") }
            return nil
        }
        marks[path] = node.mark
        if node.isNull {
            if required { report(node.mark, path: path, "`\(key)` needs a value") }
            return nil
        }
        return convertScalar(node, path: path, convert)
    }

    /// Assigns the converted scalar under `key` to `target` when it is present and valid.
    mutating func read<Value>(
        _ target: inout Value, _ fields: YAMLFields, _ key: String,
        _ convert: (String) throws(ConfigValueError) -> Value
    ) {
        if let value = scalar(fields, key, convert) { target = value }
    }

    /// The element nodes of the list under `key`, each with its path (`servers[2]`). Nil when absent or null;
    /// an issue and nil when it is not a list.
    mutating func sequence(_ fields: YAMLFields, _ key: String) -> [(node: Node, path: String)]? {
        let path = fields.path(of: key)
        guard let node = fields[key], !node.isNull else { return nil }
        marks[path] = node.mark
        guard case .sequence(let sequence) = node else {
            report(node.mark, path: path, "expected a list, found \(node.kindDescription)")
            return nil
        }
        return sequence.enumerated().map { index, element in (element, "\(path)[\(index)]") }
    }

    /// A list of scalars under `key`, each converted; invalid elements are reported and left out.
    mutating func scalarList<Value>(
        _ fields: YAMLFields, _ key: String, _ convert: (String) throws(ConfigValueError) -> Value
    ) -> [Value]? {
        guard let elements = sequence(fields, key) else { return nil }
        return elements.compactMap { element in
            marks[element.path] = element.node.mark
            return convertScalar(element.node, path: element.path, convert)
        }
    }

    private mutating func convertScalar<Value>(
        _ node: Node, path: String, _ convert: (String) throws(ConfigValueError) -> Value
    ) -> Value? {
        guard case .scalar(let scalar) = node else {
            report(node.mark, path: path, "expected a single value, found \(node.kindDescription)")
            return nil
        }
        do throws(ConfigValueError) {
            return try convert(scalar.string)
        } catch {
            report(node.mark, path: path, error.message)
            return nil
        }
    }

    private mutating func add(_ key: String, keyNode: Node, value: Node, to fields: inout YAMLFields, known: [String]) {
        guard known.contains(key) else {
            let hint = Suggestion.hint(for: key, among: known)
            report(keyNode.mark, path: fields.path(of: key), "unknown key `\(key)`\(hint)")
            return
        }
        fields.entries[key] = value
    }
}

/// The checked entries of one YAML mapping, with the mapping's own path and position.
struct YAMLFields {
    /// Key path of the mapping itself (`listeners[0]`; empty for the root).
    let path: String
    /// Where the mapping starts; "missing key" issues point here.
    let mark: Mark?
    /// Known keys only; unknown ones were reported and dropped.
    var entries: [String: Node] = [:]

    /// The value under a known key, if written.
    subscript(key: String) -> Node? { entries[key] }

    /// The path of a key inside this mapping (`listeners[0].bind`).
    func path(of key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }
}

/// Small helpers the reader needs on Yams nodes.
extension Node {
    /// A plain `~`, `null` or empty value: YAML for "nothing here".
    var isNull: Bool {
        guard case .scalar(let scalar) = self, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// "a list", "a mapping", "the value `x`", for kind-mismatch messages.
    var kindDescription: String {
        if isNull { return "an empty value" }
        switch self {
        case .scalar(let scalar): return "the value `\(scalar.string)`"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
