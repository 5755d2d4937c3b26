import ArgumentParser
import FrontControl

/// `brokerfront`: the command line (INTERFACE.md, "Command line").
@main
struct Brokerfront: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brokerfront",
        abstract: "An MQTT-aware TCP front for brokers and other TCP backends.",
        version: BuildInfo.version,
        subcommands: [RunCommand.self, CheckCommand.self, TuneCommand.self, HealthCommand.self]
    )
}
