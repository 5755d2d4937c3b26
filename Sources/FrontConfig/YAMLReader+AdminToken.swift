/// Decoding of the admin token, which may be written inline (`token`), kept in a file (`token_file`) or
/// passed in an environment variable (`token_env`), so it need not sit in a ConfigMap.
extension YAMLReader {
    /// The three ways to give the token; at most one may be used.
    static let adminTokenKeys = ["token", "token_file", "token_env"]

    /// The token and where it came from; nil when none is set, or after reporting a problem (two ways
    /// used at once, a file that cannot be read, a variable that is not set, a token no header can carry).
    mutating func decodeAdminToken(_ admin: YAMLFields) -> (value: String, source: AdminTokenSource)? {
        let written = Self.adminTokenKeys.filter { key in admin[key].map { !$0.isNull } ?? false }
            .sorted { first, second in
                let (a, b) = (admin[first]?.mark, admin[second]?.mark)
                return (a?.line ?? 0, a?.column ?? 0) < (b?.line ?? 0, b?.column ?? 0)
            }
        if written.count > 1 {
            for key in written.dropFirst() {
                report(
                    admin[key]?.mark, path: admin.path(of: key),
                    "`\(key)` and `\(written[0])` are both set: give the admin token one way only "
                        + "(token, token_file or token_env)")
            }
            return nil
        }
        if let token = scalar(admin, "token", ScalarParser.adminToken) { return (token, .inline) }
        if let file = scalar(admin, "token_file", ScalarParser.text) {
            return tokenFromFile(file, path: admin.path(of: "token_file"))
        }
        if let name = scalar(admin, "token_env", ScalarParser.environmentName) {
            let path = admin.path(of: "token_env")
            guard let value = environment[name] else {
                report(at: path, "environment variable `\(name)` is not set; it must hold the admin token")
                return nil
            }
            do throws(ConfigValueError) {
                return (try ScalarParser.adminToken(value, from: "environment variable `\(name)`"), .environment(name))
            } catch {
                report(at: path, error.message)
                return nil
            }
        }
        return nil
    }

    /// The token in `file` (relative to the config file's directory), trailing line breaks dropped.
    private mutating func tokenFromFile(_ file: String, path: String) -> (value: String, source: AdminTokenSource)? {
        let resolved = TextFile.resolve(file, relativeTo: baseDirectory)
        do throws(ConfigValueError) {
            var text = try TextFile.text(atPath: resolved).get()
            while text.hasSuffix("\n") || text.hasSuffix("\r") || text.hasSuffix("\r\n") { text.removeLast() }
            return (try ScalarParser.adminToken(text, from: "`\(resolved)`"), .file(resolved))
        } catch {
            report(at: path, error.message)
            return nil
        }
    }
}

extension ScalarParser {
    /// An admin token as an `Authorization: Bearer` header can carry it: not empty, no control
    /// characters, no leading or trailing blanks (HTTP trims those from header values).
    static func adminToken(_ text: String) throws(ConfigValueError) -> String {
        try adminToken(text, from: nil)
    }

    /// ``adminToken(_:)``, naming where the token came from (`from`) in the message.
    static func adminToken(_ text: String, from source: String?) throws(ConfigValueError) -> String {
        let subject = source.map { "the admin token in \($0)" } ?? "the admin token"
        guard !text.isEmpty else { throw ConfigValueError("\(subject) is empty") }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ConfigValueError("\(subject) contains control characters (a line break inside?)")
        }
        guard text.first != " ", text.first != "\t", text.last != " ", text.last != "\t" else {
            throw ConfigValueError("\(subject) starts or ends with a blank, which an HTTP header cannot carry")
        }
        return text
    }

    /// An environment variable's name: letters, digits and `_`, not starting with a digit.
    static func environmentName(_ text: String) throws(ConfigValueError) -> String {
        let valid =
            text.first.map { !$0.isNumber } ?? false
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard valid else {
            throw ConfigValueError("`\(text)` is not an environment variable name (letters, digits and _)")
        }
        return text
    }

    /// An `admin.hosts` entry: a DNS name without port, kept lower-cased (a `Host` header is compared
    /// without case).
    static func adminHost(_ text: String) throws(ConfigValueError) -> String {
        guard EndpointParser.isHostName(text) else {
            throw ConfigValueError(
                "`\(text)` is not a host name (write the name the admin plane is reached by, without a port; "
                    + "IP literals and localhost are always accepted)")
        }
        let lowered = text.lowercased()
        return lowered.hasSuffix(".") ? String(lowered.dropLast()) : lowered
    }
}
