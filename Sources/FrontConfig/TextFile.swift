import Foundation

/// Reads the files the configuration depends on (the config itself, TLS certificates and keys) and turns
/// failures into one-line reasons an operator can act on ("no such file", "permission denied").
///
/// Synchronous file I/O: call it from the loader (start-up, `check`, reload), never from an event loop.
enum TextFile {
    /// The file's bytes, or why they cannot be read.
    static func bytes(atPath path: String) -> Result<[UInt8], ConfigValueError> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(ConfigValueError("cannot read `\(path)`: no such file"))
        }
        guard !isDirectory.boolValue else {
            return .failure(ConfigValueError("cannot read `\(path)`: it is a directory"))
        }
        guard FileManager.default.isReadableFile(atPath: path), let data = FileManager.default.contents(atPath: path)
        else {
            return .failure(ConfigValueError("cannot read `\(path)`: permission denied"))
        }
        return .success(Array(data))
    }

    /// The file as UTF-8 text, or why it cannot be read.
    static func text(atPath path: String) -> Result<String, ConfigValueError> {
        bytes(atPath: path).flatMap { bytes in
            guard let text = String(validating: bytes, as: UTF8.self) else {
                return .failure(ConfigValueError("cannot read `\(path)`: it is not UTF-8 text"))
            }
            return .success(text)
        }
    }

    /// Checks that a PEM file (certificate, key, CA bundle) exists, is readable and contains a
    /// `-----BEGIN` line; returns the path resolved against `directory` when it was relative.
    static func pem(_ path: String, relativeTo directory: String) throws(ConfigValueError) -> String {
        guard !path.isEmpty else { throw ConfigValueError("cannot be empty; give the path of a PEM file") }
        let resolved = resolve(path, relativeTo: directory)
        let bytes = try bytes(atPath: resolved).get()
        guard contains(bytes, Array("-----BEGIN".utf8)) else {
            throw ConfigValueError("`\(resolved)` is not a PEM file (no `-----BEGIN` line)")
        }
        return resolved
    }

    /// The process's environment variables (`admin.token_env`).
    static var processEnvironment: [String: String] { ProcessInfo.processInfo.environment }

    /// `path` unchanged when absolute, else joined to `directory` (the config file's directory).
    static func resolve(_ path: String, relativeTo directory: String) -> String {
        if path.hasPrefix("/") || directory.isEmpty || directory == "." { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    /// The directory part of `path` (`/etc/bf/front.yaml` → `/etc/bf`, `front.yaml` → `.`).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { start in
            haystack[start..<(start + needle.count)].elementsEqual(needle)
        }
    }
}
