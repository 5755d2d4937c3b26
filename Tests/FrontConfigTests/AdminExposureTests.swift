import Testing

@testable import FrontConfig

/// What counts as loopback, and the warning `check` and `run` give for an admin plane without a token
/// that listens beyond it.
@Suite struct AdminExposureTests {
    @Test("loopback: 127/8, ::1, ::ffff:127.x, localhost; not the wildcards nor other addresses")
    func loopback() {
        for address in ["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1", "localhost", "LOCALHOST", "0:0::1"] {
            #expect(EndpointParser.isLoopback(address), "\(address)")
        }
        for address in ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "::ffff:10.0.0.1", "fd00::1", "::2", "example.com"] {
            #expect(!EndpointParser.isLoopback(address), "\(address)")
        }
    }

    @Test("the warning: a non-loopback bind with no token; none with a token or on loopback")
    func warning() {
        let open = AdminConfig(bind: Endpoint(host: "0.0.0.0", port: 8404))
        #expect(open.exposureWarning?.hasPrefix("admin.bind 0.0.0.0:8404 is not a loopback address") == true)
        #expect(AdminConfig(bind: Endpoint(host: "::", port: 8404)).exposureWarning != nil)
        #expect(AdminConfig(bind: Endpoint(host: "0.0.0.0", port: 8404), token: "t").exposureWarning == nil)
        #expect(AdminConfig(bind: Endpoint(host: "127.0.0.1", port: 8404)).exposureWarning == nil)
        #expect(AdminConfig(bind: Endpoint(host: "::1", port: 8404)).exposureWarning == nil)
    }

    @Test("admin.hosts are kept lower-cased, without a trailing dot")
    func hosts() throws {
        let yaml = "admin:\n  bind: 127.0.0.1:8404\n  hosts: [Front.Example.com, admin.internal.]\n" + minimalYAML
        let config = try ConfigLoader.parse(yaml: yaml, file: "front.yaml")
        #expect(config.admin?.hosts == ["front.example.com", "admin.internal"])
    }

    @Test("token sources recorded: inline, file (resolved), environment")
    func sources() throws {
        let scratch = try ScratchDirectory()
        try scratch.write("t", "x\n")
        let file = scratch.path + "/front.yaml"
        let fromFile = try ConfigLoader.parse(
            yaml: "admin:\n  bind: 127.0.0.1:1\n  token_file: t\n" + minimalYAML, file: file)
        #expect(fromFile.admin?.tokenSource == .file(scratch.path + "/t"))
        let fromEnv = try ConfigLoader.parse(
            yaml: "admin:\n  bind: 127.0.0.1:1\n  token_env: TOKEN\n" + minimalYAML, file: file,
            environment: ["TOKEN": "y"])
        #expect(fromEnv.admin?.token == "y")
        #expect(fromEnv.admin?.tokenSource == .environment("TOKEN"))
        let inline = try ConfigLoader.parse(yaml: "admin:\n  bind: 127.0.0.1:1\n  token: z\n" + minimalYAML, file: file)
        #expect(inline.admin?.tokenSource == .inline)
        #expect(checkLines("admin:\n  bind: 127.0.0.1:1\n  token_env: 1BAD\n" + minimalYAML).count == 1)
        let blank = "admin:\n  bind: 127.0.0.1:1\n  token_env: T\n" + minimalYAML
        do {
            _ = try ConfigLoader.parse(yaml: blank, file: "f.yaml", environment: ["T": "a\nb"])
            Issue.record("a token with a line break inside was accepted")
        } catch {
            #expect(
                error.issues.map(\.message) == [
                    "the admin token in environment variable `T` contains control characters (a line break inside?)"
                ])
        }
    }
}
