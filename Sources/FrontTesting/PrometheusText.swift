/// Reads samples out of Prometheus text exposition (what `GET /metrics` and the registry emit).
public enum PrometheusText {
    /// One sample line: metric name, labels, value.
    public struct Sample: Sendable, Equatable {
        /// Metric name, e.g. `brokerfront_connections_total`.
        public var name: String
        /// Label names to values.
        public var labels: [String: String]
        /// The sample value.
        public var value: Double
    }

    /// Every sample in `text` (comment lines skipped).
    public static func samples(in text: String) -> [Sample] {
        var result: [Sample] = []
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.drop { $0 == " " }
            guard !line.isEmpty, line.first != "#" else { continue }
            var name = ""
            var labels: [String: String] = [:]
            var rest: Substring
            if let brace = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") {
                name = String(line[..<brace])
                labels = parseLabels(line[line.index(after: brace)..<close])
                rest = line[line.index(after: close)...]
            } else {
                guard let space = line.firstIndex(of: " ") else { continue }
                name = String(line[..<space])
                rest = line[space...]
            }
            rest = rest.drop { $0 == " " }
            let valueText = rest.split(separator: " ").first.map(String.init) ?? ""
            guard let value = Double(valueText) else { continue }
            result.append(Sample(name: name, labels: labels, value: value))
        }
        return result
    }

    /// The value of the sample named `name` whose labels include all of `labels`; nil when absent.
    /// When several match (a subset of labels given), their values are summed.
    public static func value(of name: String, labels: [String: String] = [:], in text: String) -> Double? {
        let matching = samples(in: text).filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        guard !matching.isEmpty else { return nil }
        return matching.reduce(0) { $0 + $1.value }
    }

    /// `a="x",b="y\"z"` as a dictionary (escapes `\"`, `\\`, `\n` decoded).
    static func parseLabels(_ text: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        var index = text.startIndex
        while index < text.endIndex {
            guard let equals = text[index...].firstIndex(of: "=") else { break }
            let key = text[index..<equals].trimmingCharacters(in: " ,")
            var cursor = text.index(after: equals)
            guard cursor < text.endIndex, text[cursor] == "\"" else { break }
            cursor = text.index(after: cursor)
            var value = ""
            while cursor < text.endIndex, text[cursor] != "\"" {
                if text[cursor] == "\\", text.index(after: cursor) < text.endIndex {
                    cursor = text.index(after: cursor)
                    value.append(text[cursor] == "n" ? "\n" : text[cursor])
                } else {
                    value.append(text[cursor])
                }
                cursor = text.index(after: cursor)
            }
            labels[key] = value
            index = cursor < text.endIndex ? text.index(after: cursor) : cursor
        }
        return labels
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
