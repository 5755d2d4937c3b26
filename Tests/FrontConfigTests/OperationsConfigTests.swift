import Testing

@testable import FrontConfig

/// `watch` and the admin plane's default address.
@Suite("watch and admin.bind default")
struct OperationsConfigTests {
    @Test("watch is off unless set; true and false are read; anything else is refused at its line")
    func watch() throws {
        #expect(try #require(parseValid(minimalYAML)).watch == false)
        #expect(try #require(parseValid("watch: true\n" + minimalYAML)).watch == true)
        #expect(try #require(parseValid("watch: false\n" + minimalYAML)).watch == false)
        let lines = checkLines("watch: sometimes\n" + minimalYAML)
        #expect(lines.count == 1 && lines[0].contains(":1:") && lines[0].contains("watch"), "\(lines)")
    }

    @Test("admin without bind listens on 127.0.0.1:8404; a written bind is used as is")
    func adminDefaultBind() throws {
        let defaulted = try #require(parseValid("admin:\n  token: t\n" + minimalYAML))
        #expect(defaulted.admin?.bind == Endpoint(host: "127.0.0.1", port: 8404))
        let written = try #require(parseValid("admin:\n  bind: 0.0.0.0:9100\n" + minimalYAML))
        #expect(written.admin?.bind == Endpoint(host: "0.0.0.0", port: 9100))
    }
}
