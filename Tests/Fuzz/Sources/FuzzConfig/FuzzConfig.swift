import CLibFuzzer
import FrontConfig

/// libFuzzer target for the configuration loader's validation: `ConfigLoader.parse(yaml:file:)` on
/// malformed documents. Besides "never traps or hangs", a refusal must carry at least one issue, each
/// with a 1-based position, a key path and a message (what `brokerfront check` prints), and an accepted
/// configuration must be internally consistent.
///
/// The file name is under a directory that does not exist, so relative TLS paths in a document resolve
/// to nothing. See FuzzMQTTCodec for why this supplies `FuzzConfig_main`.
@_cdecl("FuzzConfig_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in
        let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
        ConfigOracle.check(String(decoding: bytes, as: UTF8.self))
        return 0
    }
}

/// The properties checked on each input.
enum ConfigOracle {
    static let file = "/nonexistent-brokerfront-fuzz/front.yaml"

    static func check(_ yaml: String) {
        do {
            let config = try ConfigLoader.parse(yaml: yaml, file: file)
            for listener in config.listeners {
                precondition(config.backend(named: listener.backend) != nil, "listener without its backend")
            }
            precondition(config.maxConnections >= 1, "max_connections \(config.maxConnections)")
        } catch {
            precondition(!error.issues.isEmpty, "a refusal without issues")
            for issue in error.issues {
                precondition(issue.line >= 1 && issue.column >= 1, "position \(issue.line):\(issue.column)")
                precondition(!issue.path.isEmpty && !issue.message.isEmpty, "issue without path or message")
                _ = issue.formatted(file: error.file)
            }
        }
    }
}
