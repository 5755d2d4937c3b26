import Foundation
import FrontConfig
import FrontProxy

/// Loading a configuration the way `check` and `run` both need it: YAML validation, then the TLS
/// material each listener names (certificates and keys must parse, not only exist).
enum ConfigLoading {
    /// The configuration, or every problem as `FILE:LINE:COL: PATH: message` lines in file order:
    /// the YAML's, and those of the TLS files named by listeners whose `tls:` section itself is valid
    /// (even when other parts of the file are not).
    static func load(_ path: String) -> Result<FrontConfiguration, LoadFailure> {
        var problems: [ConfigIssue] = []
        let configuration: FrontConfiguration
        do {
            configuration = try ConfigLoader.load(contentsOf: path)
        } catch {
            problems = error.issues
            guard let partial = error.partial else { return .failure(LoadFailure(path, problems)) }
            configuration = partial
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for (index, listener) in configuration.listeners.enumerated() where listener.tls != nil {
            let section = "listeners[\(index)].tls"
            // Files the YAML pass already refused (missing, not PEM) are not tried again.
            guard !problems.contains(where: { $0.path.hasPrefix(section) }) else { continue }
            for error in TLSContextFactory.problems(for: listener) {
                let (line, column) = position(of: error.file, in: text)
                problems.append(
                    ConfigIssue(
                        line: line, column: column, path: "listeners[\(index)].\(error.setting)", message: error.reason)
                )
            }
        }
        return problems.isEmpty ? .success(configuration) : .failure(LoadFailure(path, problems))
    }

    /// Where the file name (as written, maybe relative) first appears in the YAML text; 1:1 if nowhere.
    static func position(of file: String, in text: String) -> (Int, Int) {
        let needle = (file as NSString).lastPathComponent
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let range = line.range(of: needle) {
                var start = range.lowerBound
                while start > line.startIndex, !" \t:\"'".contains(line[line.index(before: start)]) {
                    start = line.index(before: start)
                }
                return (number + 1, line.distance(from: line.startIndex, to: start) + 1)
            }
        }
        return (1, 1)
    }
}

/// The problems that kept a configuration from loading.
struct LoadFailure: Error {
    /// One `FILE:LINE:COL: PATH: message` line each, in file order.
    var lines: [String]

    init(_ path: String, _ issues: [ConfigIssue]) {
        lines = ConfigIssue.inFileOrder(issues).map { $0.formatted(file: path) }
    }
}
