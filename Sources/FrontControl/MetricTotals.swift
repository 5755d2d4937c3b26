import FrontCore
import FrontProxy
import Prometheus

/// The totals ``StatusHistory`` samples, read from what the front already counts: the sessions open
/// now from the proxy, and the connection, refusal and move counters from the Prometheus registry's
/// text (the same text `GET /metrics` serves), summed over every listener and server. Pure but for
/// the reads: call it from any thread.
public enum MetricTotals {
    /// `brokerfront_connections_total`, every listener.
    static let connects = "brokerfront_connections_total"
    /// `brokerfront_connections_rejected_total{listener,reason}`, summed per reason.
    static let rejected = "brokerfront_connections_rejected_total"
    /// `brokerfront_sessions_moved_total`, every server and reason.
    static let moved = "brokerfront_sessions_moved_total"

    /// The totals of the front behind `proxy` and `registry` now.
    public static func read(proxy: FrontProxy, registry: PrometheusCollectorRegistry) -> StatusHistory.Totals {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return totals(sessions: proxy.activeSessions, metrics: String(decoding: bytes, as: UTF8.self))
    }

    /// The totals in Prometheus exposition `metrics`, with `sessions` open now.
    static func totals(sessions: Int, metrics: String) -> StatusHistory.Totals {
        var result = StatusHistory.Totals(sessions: sessions, connects: 0, rejected: [:], moved: 0)
        for line in metrics.split(separator: "\n") where line.hasPrefix("brokerfront_") {
            let nameEnd = line.firstIndex { $0 == "{" || $0 == " " } ?? line.endIndex
            let name = line[..<nameEnd]
            guard name == connects || name == rejected || name == moved,
                let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...])
            else { continue }
            // Counters: whole, not negative; anything else (NaN, ±Inf, past Int) counts as nothing.
            let count = value >= 0 && value < 9e18 ? Int(value) : 0
            if name == connects {
                result.connects = [result.connects, count].saturatingSum()
            } else if name == moved {
                result.moved = [result.moved, count].saturatingSum()
            } else {
                let reason = labels(line[nameEnd..<space])["reason"] ?? "unknown"
                result.rejected[reason] = [result.rejected[reason] ?? 0, count].saturatingSum()
            }
        }
        return result
    }

    /// The labels of `{a="x",b="y\"z"}` (escapes `\"`, `\\` and `\n` decoded); empty without braces.
    static func labels(_ text: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        var rest = text.drop { $0 == "{" }
        while let equals = rest.firstIndex(of: "=") {
            let key = String(rest[..<equals].drop { $0 == "," || $0 == " " })
            rest = rest[rest.index(after: equals)...]
            guard rest.first == "\"" else { break }
            rest = rest.dropFirst()
            var value = ""
            var escaped = false
            while let character = rest.first {
                rest = rest.dropFirst()
                if escaped {
                    value.append(character == "n" ? "\n" : character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    break
                } else {
                    value.append(character)
                }
            }
            labels[key] = value
        }
        return labels
    }
}
