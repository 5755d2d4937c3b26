/// One problem found in a configuration file, with where it is and which key it concerns.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    /// 1-based line and column of the offending node (the key for unknown keys, the value otherwise).
    public var line: Int
    public var column: Int
    /// The key path, like `backends[0].servers[2].address` or `listeners[0].bakend`.
    public var path: String
    /// What is wrong, in words an operator can act on, naming the bad value.
    public var message: String

    public init(line: Int, column: Int, path: String, message: String) {
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `LINE:COL: PATH: message` (the caller prefixes the file name).
    public var description: String { "\(line):\(column): \(path): \(message)" }

    /// `FILE:LINE:COL: PATH: message`, the line `brokerfront check` prints.
    public func formatted(file: String) -> String { "\(file):\(description)" }

    /// `issues` in file order (line, then column); issues at one position keep the order found.
    public static func inFileOrder(_ issues: [ConfigIssue]) -> [ConfigIssue] {
        issues.enumerated().sorted { lhs, rhs in
            (lhs.element.line, lhs.element.column, lhs.offset) < (rhs.element.line, rhs.element.column, rhs.offset)
        }.map(\.element)
    }
}

/// Thrown when a configuration is invalid; carries every problem found in one pass.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// The file as the user named it (used as the `FILE` prefix).
    public var file: String
    public var issues: [ConfigIssue]
    /// What could be read despite the issues (nil when the file could not be read or parsed as
    /// YAML): lets `check` go on to look at the TLS files the valid parts name.
    public var partial: FrontConfiguration?

    public init(file: String, issues: [ConfigIssue], partial: FrontConfiguration? = nil) {
        self.file = file
        self.issues = issues
        self.partial = partial
    }

    /// One `FILE:LINE:COL: PATH: message` line per issue.
    public var description: String {
        issues.map { $0.formatted(file: file) }.joined(separator: "\n")
    }
}
