import ArgumentParser
import Foundation
import FrontConfig

/// `brokerfront check --config FILE`: validate only; every problem on stderr as `FILE:LINE:COL: PATH: message`.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate a configuration file and print every problem.")

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String

    func run() throws {
        switch ConfigLoading.load(config) {
        case .success(let loaded):
            print("\(config): OK (\(loaded.listeners.count) listeners, \(loaded.backends.count) backends)")
            if let warning = loaded.admin?.exposureWarning { StandardError.write("\(config): warning: \(warning)") }
            if let warning = loaded.ignoredKeysWarning { StandardError.write("\(config): warning: \(warning)") }
            for estimate in ConnectMemoryEstimate.of(loaded) { print(estimate.line) }
        case .failure(let failure):
            StandardError.write(failure.lines.joined(separator: "\n"))
            throw ExitCode(1)
        }
    }
}

/// Writes lines to standard error.
enum StandardError {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
