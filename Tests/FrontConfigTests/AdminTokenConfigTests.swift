import Foundation
import Testing

@testable import FrontConfig

/// `admin.token`, `admin.token_file`, `admin.token_env` (at most one) and `admin.hosts`.
@Suite struct AdminTokenConfigTests {
    /// A unique environment variable name, so tests running at once never share one.
    static func variableName() -> String {
        "BROKERFRONT_TEST_TOKEN_" + UUID().uuidString.replacingOccurrences(of: "-", with: "_")
    }

    @Test("token_file: read at load, relative to the config file, the trailing newline dropped")
    func tokenFromFile() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("admin-token", "s3cret-from-file\n")
        let yaml = "admin:\n  bind: 127.0.0.1:8404\n  token_file: admin-token\n" + minimalYAML
        let config = try ConfigLoader.parse(yaml: yaml, file: scratch.path + "/front.yaml")
        #expect(config.admin?.token == "s3cret-from-file")
        // CRLF from an editor on another system, too.
        try scratch.write("crlf-token", "s3cret\r\n")
        let crlf = "admin:\n  bind: 127.0.0.1:8404\n  token_file: crlf-token\n" + minimalYAML
        #expect(try ConfigLoader.parse(yaml: crlf, file: scratch.path + "/front.yaml").admin?.token == "s3cret")
    }

    @Test("token_env: the variable's value is the token")
    func tokenFromEnvironment() throws {
        let name = Self.variableName()
        setenv(name, "s3cret-from-env", 1)
        defer { unsetenv(name) }
        let yaml = "admin:\n  bind: 127.0.0.1:8404\n  token_env: \(name)\n" + minimalYAML
        let config = try ConfigLoader.parse(yaml: yaml, file: "front.yaml")
        #expect(config.admin?.token == "s3cret-from-env")
    }

    @Test("two ways at once, a missing file, an unset variable, an empty file: errors with file:line:col")
    func problems() throws {
        let scratch = try ScratchDirectory()
        let file = scratch.path + "/front.yaml"
        let both = "admin:\n  bind: 127.0.0.1:8404\n  token: a\n  token_file: t\n" + minimalYAML
        #expect(
            checkLines(both, file: file) == [
                "\(file):4:15: admin.token_file: `token_file` and `token` are both set: give the admin token "
                    + "one way only (token, token_file or token_env)"
            ])
        let missing = "admin:\n  bind: 127.0.0.1:8404\n  token_file: nowhere\n" + minimalYAML
        #expect(
            checkLines(missing, file: file) == [
                "\(file):3:15: admin.token_file: cannot read `\(scratch.path)/nowhere`: no such file"
            ])
        try scratch.write("empty", "\n")
        let empty = "admin:\n  bind: 127.0.0.1:8404\n  token_file: empty\n" + minimalYAML
        #expect(
            checkLines(empty, file: file) == [
                "\(file):3:15: admin.token_file: the admin token in `\(scratch.path)/empty` is empty"
            ])
        let name = Self.variableName()
        let unset = "admin:\n  bind: 127.0.0.1:8404\n  token_env: \(name)\n" + minimalYAML
        #expect(
            checkLines(unset, file: file) == [
                "\(file):3:14: admin.token_env: environment variable `\(name)` is not set; it must hold the admin token"
            ])
    }

    @Test("admin.hosts: DNS names; one with a port is refused")
    func hosts() throws {
        let yaml = "admin:\n  bind: 127.0.0.1:8404\n  hosts: [Front.Example.com, admin.internal.]\n" + minimalYAML
        #expect(checkLines(yaml).isEmpty)
        let bad = "admin:\n  bind: 127.0.0.1:8404\n  hosts: [front.example.com:8404]\n" + minimalYAML
        #expect(
            checkLines(bad) == [
                "front.yaml:3:11: admin.hosts[0]: `front.example.com:8404` is not a host name (write the name the "
                    + "admin plane is reached by, without a port; IP literals and localhost are always accepted)"
            ])
    }
}
