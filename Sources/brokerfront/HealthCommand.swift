import ArgumentParser
import FrontControl

/// `brokerfront health [--url URL]`: asks a running front's admin plane whether it serves; exit 0 on
/// 200, 1 otherwise. For container HEALTHCHECKs and scripts where there is no curl.
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask a running front's GET /healthz; exit 0 when it answers 200 (serving), 1 otherwise.")

    @Option(name: .long, help: "The health endpoint: http://HOST:PORT/PATH (IP literal or localhost).")
    var url: String = "http://127.0.0.1:8404/healthz"

    @Option(name: .long, help: "Seconds to wait for the answer.")
    var timeout: Double = 3

    func validate() throws {
        guard HTTPGet.Target(url) != nil else {
            throw ValidationError("--url must look like http://127.0.0.1:8404/healthz")
        }
        guard timeout > 0, timeout <= 300 else { throw ValidationError("--timeout must be in (0, 300] seconds") }
    }

    func run() throws {
        guard let target = HTTPGet.Target(url) else { throw ExitCode(1) }
        switch HTTPGet.fetch(target, timeout: timeout) {
        case .success(let answer):
            print("\(answer.status) \(answer.body)")
            if answer.status != 200 { throw ExitCode(1) }
        case .failure(let failure):
            StandardError.write("\(url): \(failure.reason)")
            throw ExitCode(1)
        }
    }
}
