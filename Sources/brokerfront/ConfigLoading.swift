import Foundation
import FrontConfig
import FrontProxy

/// Loading a configuration the way `check` and `run` both need it: YAML validation, then the TLS
/// material each listener names (certificates and keys must parse, not only exist).
enum ConfigLoading {
    /// The configuration, or every problem as `FILE:LINE:COL: PATH: message` lines.
    static func load(_ path: String) -> Result<FrontConfiguration, LoadFailure> {
        let configuration: FrontConfiguration
        do {
            configuration = try ConfigLoader.load(contentsOf: path)
        } catch {
            return .failure(LoadFailure(lines: error.issues.map { $0.formatted(file: path) }))
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var lines: [String] = []
        for (index, listener) in configuration.listeners.enumerated() where listener.tls != nil {
            do {
                _ = try TLSContextFactory.make(for: listener)
            } catch let error as TLSSetupError {
                let (line, column) = position(of: error.file, in: text)
                lines.append("\(path):\(line):\(column): listeners[\(index)].\(error.setting): \(error.reason)")
            } catch {
                lines.append("\(path):1:1: listeners[\(index)].tls: \(error)")
            }
        }
        return lines.isEmpty ? .success(configuration) : .failure(LoadFailure(lines: lines))
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
    var lines: [String]
}
