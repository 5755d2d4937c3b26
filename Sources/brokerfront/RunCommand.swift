import ArgumentParser
import FrontConfig
import FrontControl
import FrontProxy
import Logging
import ServiceLifecycle
import UnixSignals

/// `brokerfront run --config FILE`: start the front; runs until SIGTERM/SIGINT (exit 0 after the drain).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Start the front and run until SIGTERM or SIGINT.")

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String

    func run() async throws {
        let configuration: FrontConfiguration
        switch ConfigLoading.load(config) {
        case .success(let loaded):
            configuration = loaded
        case .failure(let failure):
            StandardError.write(failure.lines.joined(separator: "\n"))
            throw ExitCode(1)
        }
        let logSettings = LogSettings(configuration.log)
        LoggingSystem.bootstrap { label in FrontLogHandler(label: label, settings: logSettings) }
        let logger = Logger(label: "brokerfront")

        if let warning = configuration.admin?.exposureWarning { logger.warning("\(warning)") }
        if let warning = configuration.ignoredKeysWarning { logger.warning("\(warning)") }
        let limit = FileDescriptorLimit.raise(for: configuration)
        if !limit.fits {
            logger.warning(
                "open-file limit too low for the configured connection caps; accepting pauses at sessions_that_fit",
                metadata: [
                    "nofile_soft": .stringConvertible(limit.soft), "nofile_hard": .stringConvertible(limit.hard),
                    "needed": .stringConvertible(limit.needed == .max ? "unbounded" : "\(limit.needed)"),
                    "sessions_that_fit": .stringConvertible(limit.sessionsThatFit),
                    "hint": "lower max_connections or raise LimitNOFILE / ulimit -n",
                ])
        }

        let runner = FrontRunner(
            configuration: configuration, logger: logger, signals: [.sigterm, .sigint], configPath: config,
            reloadOnHangup: true, logSettings: logSettings)
        do {
            try await runner.run()
        } catch {
            logger.error("front stopped on an error", metadata: ["error": .string("\(error)")])
            throw ExitCode(1)
        }
    }
}
