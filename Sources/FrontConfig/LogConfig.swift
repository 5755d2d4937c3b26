/// `log:` — level and line format.
public struct LogConfig: Sendable, Equatable {
    public enum Level: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }
    public var level: Level
    public var format: Format

    public init(level: Level = .info, format: Format = .text) {
        self.level = level
        self.format = format
    }
}
