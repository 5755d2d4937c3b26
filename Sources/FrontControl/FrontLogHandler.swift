import Foundation
import FrontConfig
import Logging
import Synchronization

/// The log level and format of the running process, shared by all its `FrontLogHandler`s: a reload
/// changes them in place (`log:` applies without a restart). Thread-safe.
public final class LogSettings: Sendable {
    private let levelIndex: Atomic<Int>
    private let formatIndex: Atomic<Int>

    public init(_ config: LogConfig) {
        levelIndex = Atomic(LogConfig.Level.allCases.firstIndex(of: config.level) ?? 0)
        formatIndex = Atomic(LogConfig.Format.allCases.firstIndex(of: config.format) ?? 0)
    }

    /// The settings now.
    public var config: LogConfig { LogConfig(level: level, format: format) }

    var level: LogConfig.Level { LogConfig.Level.allCases[levelIndex.load(ordering: .relaxed)] }
    var format: LogConfig.Format { LogConfig.Format.allCases[formatIndex.load(ordering: .relaxed)] }

    /// Switches every handler reading these settings to `config` from its next line on.
    public func apply(_ config: LogConfig) {
        levelIndex.store(LogConfig.Level.allCases.firstIndex(of: config.level) ?? 0, ordering: .relaxed)
        formatIndex.store(LogConfig.Format.allCases.firstIndex(of: config.format) ?? 0, ordering: .relaxed)
    }
}

/// Writes one line per log event to standard error, as text (`TIME LEVEL message k=v ...`) or as
/// one JSON object (`format: json`). Session fields come first in the order INTERFACE.md shows, so
/// the `session closed` line reads the same every time; other keys follow sorted. Level and format
/// come from shared ``LogSettings`` (a reload changes them), unless `logLevel` is set on a logger.
public struct FrontLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    private let settings: LogSettings
    private var levelOverride: Logger.Level?
    private let label: String

    /// Keys printed first, in this order, when present.
    static let leadingKeys = [
        "listener", "client", "client_id", "backend", "server", "source", "duration", "bytes_in", "bytes_out", "reason",
    ]

    public init(label: String, settings: LogSettings) {
        self.label = label
        self.settings = settings
    }

    /// A handler with settings of its own.
    public init(label: String, level: Logger.Level, format: LogConfig.Format) {
        self.init(label: label, settings: LogSettings(LogConfig(level: LogConfig.Level(level), format: format)))
    }

    public var logLevel: Logger.Level {
        get { levelOverride ?? settings.level.loggerLevel }
        set { levelOverride = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = Self.render(
            level: event.level, message: "\(event.message)", metadata: merged, format: settings.format,
            time: Date())
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// One rendered line (without the newline); pure, for tests.
    static func render(
        level: Logger.Level, message: String, metadata: Logger.Metadata, format: LogConfig.Format, time: Date
    ) -> String {
        let keys = orderedKeys(metadata)
        let timestamp = time.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        switch format {
        case .text:
            var line = "\(timestamp) \(level) \(message)"
            for key in keys {
                line += " \(key)=\(textValue("\(metadata[key] ?? "")"))"
            }
            return line
        case .json:
            var fields: [String] = [
                "\"time\":\(jsonString(timestamp))", "\"level\":\(jsonString("\(level)"))",
                "\"message\":\(jsonString(message))",
            ]
            for key in keys {
                fields.append("\(jsonString(key)):\(jsonValue(metadata[key] ?? ""))")
            }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }

    static func orderedKeys(_ metadata: Logger.Metadata) -> [String] {
        let leading = leadingKeys.filter { metadata[$0] != nil }
        let rest = metadata.keys.filter { !leadingKeys.contains($0) }.sorted()
        return leading + rest
    }

    /// A value as logfmt would write it: bare when safe, else quoted with escapes.
    static func textValue(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains {
                $0 == " " || $0 == "=" || $0 == "\"" || $0.value < 0x20 || $0.value == 0x7f
            }
        guard needsQuotes else { return value }
        return jsonString(value)
    }

    /// A count (`bytes_in`, `bytes_out`, `sessions`, ...) as a JSON number, so log pipelines can sum
    /// and compare it; anything else as a string.
    static func jsonValue(_ value: Logger.Metadata.Value) -> String {
        if case .stringConvertible(let convertible) = value, convertible is any BinaryInteger {
            return "\(convertible)"
        }
        return jsonString("\(value)")
    }

    /// A JSON string literal with the escapes RFC 8259 requires.
    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension LogConfig.Level {
    /// The level of the same name as swift-log's `level`.
    init(_ level: Logger.Level) {
        switch level {
        case .trace: self = .trace
        case .debug: self = .debug
        case .info: self = .info
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .critical: self = .critical
        }
    }

    /// The swift-log level of the same name.
    public var loggerLevel: Logger.Level {
        switch self {
        case .trace: return .trace
        case .debug: return .debug
        case .info: return .info
        case .notice: return .notice
        case .warning: return .warning
        case .error: return .error
        case .critical: return .critical
        }
    }
}
