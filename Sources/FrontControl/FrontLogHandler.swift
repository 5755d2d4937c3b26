import Foundation
import FrontConfig
import Logging

/// Writes one line per log event to standard error, as text (`TIME LEVEL message k=v ...`) or as
/// one JSON object (`format: json`). Session fields come first in the order INTERFACE.md shows, so
/// the `session closed` line reads the same every time; other keys follow sorted.
public struct FrontLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let format: LogConfig.Format
    private let label: String

    /// Keys printed first, in this order, when present.
    static let leadingKeys = [
        "listener", "client", "client_id", "backend", "server", "source", "duration", "bytes_in", "bytes_out", "reason",
    ]

    public init(label: String, level: Logger.Level, format: LogConfig.Format) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = Self.render(
            level: event.level, message: "\(event.message)", metadata: merged, format: format, time: Date())
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
                fields.append("\(jsonString(key)):\(jsonString("\(metadata[key] ?? "")"))")
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
