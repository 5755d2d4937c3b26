import Yams

/// Turns a YAML configuration file into a validated ``FrontConfiguration``, or a ``ConfigError`` listing every
/// problem found, each with its line, column and key path.
///
/// Used by `brokerfront run`/`check` at start-up and by the reload service on SIGHUP. It reads files (the
/// config and the TLS files it names) synchronously, so call it off the event loops. Nothing is cached; each
/// call is independent and the result is an immutable value to swap in whole.
public enum ConfigLoader {
    /// Key path used for problems with the file itself (missing, unreadable, not UTF-8).
    public static let filePath = "(file)"
    /// Key path used for YAML syntax errors, which have a position but no key.
    public static let syntaxPath = "(yaml)"

    /// Reads and validates the configuration at `path`.
    ///
    /// - Parameter path: the file as the user named it; it prefixes every issue and relative TLS paths in the
    ///   file are resolved against its directory.
    /// - Throws: ``ConfigError`` with one issue at 1:1 (path `(file)`) when the file cannot be read, else
    ///   whatever ``parse(yaml:file:)`` finds.
    public static func load(
        contentsOf path: String, environment: [String: String]? = nil
    ) throws(ConfigError) -> FrontConfiguration {
        switch TextFile.text(atPath: path) {
        case .success(let text):
            return try parse(yaml: text, file: path, environment: environment)
        case .failure(let error):
            let issue = ConfigIssue(line: 1, column: 1, path: filePath, message: error.message)
            throw ConfigError(file: path, issues: [issue])
        }
    }

    /// Validates a configuration held in memory.
    ///
    /// - Parameters:
    ///   - yaml: the document text.
    ///   - file: the name to report issues under; relative TLS paths are resolved against its directory.
    ///   - environment: where `admin.token_env` is looked up; nil: the process's environment.
    /// - Throws: ``ConfigError``: a YAML syntax error is a single issue at the position the YAML parser gives;
    ///   otherwise every schema, value and cross-check problem, sorted by position.
    public static func parse(
        yaml: String, file: String, environment: [String: String]? = nil
    ) throws(ConfigError) -> FrontConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml, .default, .default, .utf8)
        } catch {
            throw ConfigError(file: file, issues: [syntaxIssue(error)])
        }
        var reader = YAMLReader(
            baseDirectory: TextFile.directory(of: file), environment: environment ?? TextFile.processEnvironment)
        var config = reader.decodeRoot(root)
        ConfigValidator.check(&config, reader: &reader)
        guard reader.issues.isEmpty else {
            throw ConfigError(file: file, issues: ConfigIssue.inFileOrder(reader.issues), partial: config)
        }
        return config
    }

    /// One issue for an error from the YAML parser, at its problem position.
    private static func syntaxIssue(_ error: any Error) -> ConfigIssue {
        func issue(_ mark: Mark, _ message: String) -> ConfigIssue {
            ConfigIssue(line: mark.line, column: mark.column, path: syntaxPath, message: message)
        }
        func issue(_ position: (line: Int, column: Int), _ message: String) -> ConfigIssue {
            ConfigIssue(line: position.line, column: position.column, path: syntaxPath, message: message)
        }
        func withContext(_ problem: String, _ context: YamlError.Context?) -> String {
            guard let context else { return "YAML syntax error: \(problem)" }
            return "YAML syntax error: \(problem) (\(context.text) at line \(context.mark.line))"
        }
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return issue(mark, withContext(problem, context))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            let first = context.mark
            let second = repeatedKey(key, after: first, in: context.text) ?? (first.line, first.column)
            return issue(second, "duplicate key `\(key)` (first on line \(first.line)); each key may appear once")
        case .reader(let problem, let offset, _, let yaml):
            let place = offset.map { position(ofCharacter: $0, in: yaml) } ?? (1, 1)
            return issue(place, "cannot read the YAML text: \(problem)")
        default:
            return ConfigIssue(line: 1, column: 1, path: syntaxPath, message: "YAML error: \(error)")
        }
    }

    /// Where `key` appears again at the same indentation as its first occurrence (Yams reports the first).
    private static func repeatedKey(_ key: String, after first: Mark, in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated().dropFirst(first.line) {
            let indent = line.unicodeScalars.prefix(first.column - 1)
            let rest = Substring(line.unicodeScalars.dropFirst(first.column - 1))
            let keyStart = rest.hasPrefix(key + ":") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':")
            if keyStart && indent.allSatisfy({ $0 == " " || $0 == "-" }) {
                return (index + 1, first.column)
            }
        }
        return nil
    }

    /// 1-based line and column of the `offset`-th character of `text`.
    private static func position(ofCharacter offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
