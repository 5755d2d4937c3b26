import Foundation
import Testing

@testable import FrontConfig

/// A scratch directory for files a configuration refers to (PEM files, the config itself).
struct ScratchDirectory: ~Copyable {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "frontconfig-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `contents` to `name` inside the directory and returns the full path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let file = path + "/" + name
        try contents.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Writes a minimal PEM-looking file.
    @discardableResult
    func writePEM(_ name: String, kind: String = "CERTIFICATE") throws -> String {
        try write(name, "-----BEGIN \(kind)-----\nMIIB\n-----END \(kind)-----\n")
    }
}

/// The `FILE:LINE:COL: PATH: message` lines `brokerfront check` would print for `yaml`; empty when valid.
func checkLines(_ yaml: String, file: String = "front.yaml") -> [String] {
    do {
        _ = try ConfigLoader.parse(yaml: yaml, file: file)
        return []
    } catch {
        return error.issues.map { $0.formatted(file: file) }
    }
}

/// Parses `yaml` that must be valid; records the issues as a test failure otherwise.
func parseValid(_ yaml: String, file: String = "front.yaml") -> FrontConfiguration? {
    do {
        return try ConfigLoader.parse(yaml: yaml, file: file)
    } catch {
        Issue.record("expected a valid configuration, got:\n\(error)")
        return nil
    }
}

/// A valid listener + backend pair to append sections to.
let minimalYAML = """
    listeners:
      - name: m
        bind: 127.0.0.1:0
        backend: b
    backends:
      - name: b
        servers:
          - address: 127.0.0.1:1883

    """
