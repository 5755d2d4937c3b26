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
        "cause",
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
            var line = "\(timestamp) \(level) \(escapedControls(message))"
            for key in keys {
                line += " \(key)=\(textValue(bounded(key, "\(metadata[key] ?? "")")))"
            }
            return line
        case .json:
            var fields: [String] = [
                "\"time\":\(jsonString(timestamp))", "\"level\":\(jsonString("\(level)"))",
                "\"message\":\(jsonString(message))",
            ]
            for key in keys {
                let value = metadata[key] ?? ""
                let shown = clientSuppliedKeys.contains(key) ? .string(bounded(key, "\(value)")) : value
                fields.append("\(jsonString(key)):\(jsonValue(shown))")
            }
            return "{" + fields.joined(separator: ",") + "}"
        }
    }

    /// Keys whose values a client chooses (up to 64 KiB each in a CONNECT): logged cut to
    /// ``clientValueLimit`` bytes, so a storm of refused CONNECTs cannot fill a disk at 64 KiB a line.
    static let clientSuppliedKeys: Set<String> = ["client_id", "client_cn", "username"]

    /// Bytes of a client-supplied value a log line keeps.
    static let clientValueLimit = 256

    /// `value` as logged under `key`: a client-supplied value longer than ``clientValueLimit`` bytes is
    /// cut at a character boundary and marked with its full length (`…(60000 bytes)`).
    static func bounded(_ key: String, _ value: String) -> String {
        guard clientSuppliedKeys.contains(key), value.utf8.count > clientValueLimit else { return value }
        var kept = ""
        var size = 0
        for scalar in value.unicodeScalars {
            let length = UTF8.width(scalar)
            guard size + length <= clientValueLimit else { break }
            kept.unicodeScalars.append(scalar)
            size += length
        }
        return kept + "…(\(value.utf8.count) bytes)"
    }

    /// Whether a scalar must not reach a log line as itself: C0 controls and DEL, C1 controls (U+0085
    /// NEXT LINE among them) and the Unicode line and paragraph separators, which terminals and log
    /// viewers may take as a line break or a command.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value) || scalar.value == 0x2028
            || scalar.value == 0x2029
    }

    /// The text format's message: unquoted, with every control written as an escape (`\n`, `\u2028`),
    /// so one event is one line whatever the message holds (a config problem quoting the file).
    static func escapedControls(_ message: String) -> String {
        guard message.unicodeScalars.contains(where: isControl) else { return message }
        var out = ""
        for scalar in message.unicodeScalars {
            if isControl(scalar) { out += escape(scalar) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// The JSON-style escape of a control scalar.
    private static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default: return String(format: "\\u%04x", scalar.value)
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
                $0 == " " || $0 == "=" || $0 == "\"" || isControl($0)
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

    /// A JSON string literal with the escapes RFC 8259 requires, and C1 controls and U+2028/U+2029
    /// escaped too (JavaScript tools and terminals read them as line breaks).
    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if isControl(scalar) { out += escape(scalar) } else { out.unicodeScalars.append(scalar) }
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
