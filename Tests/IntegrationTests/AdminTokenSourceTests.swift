import Foundation
import FrontTesting
import Testing

/// The admin token from a file or an environment variable, with the built executable: `check` warns of
/// an exposed plane, and a reload reads the token file again.
@Suite("Admin token sources (executable)")
struct AdminTokenSourceTests {
    /// A config with an admin section (`admin` lines, indented) and one server that refuses.
    static func config(admin: String, port: Int = FreePort.next()) -> String {
        "admin:\n" + admin + ExecutableTests.goodConfig(brokerPort: FreePort.refusing(), port: port)
    }

    @Test("check warns when the admin plane binds beyond loopback with no token; not with a token")
    func checkWarnsOfExposure() async throws {
        let directory = try TemporaryDirectory(prefix: "check-admin")
        defer { directory.remove() }
        _ = try directory.write("s3cret\n", to: "admin-token")
        let open = try directory.write(Self.config(admin: "  bind: 0.0.0.0:8404\n"), to: "open.yaml")
        let (status, lines) = try await ExecutableTests.check(open)
        #expect(status == 0, "\(lines)")
        #expect(
            lines == [
                "\(open): warning: admin.bind 0.0.0.0:8404 is not a loopback address and no admin token is set: "
                    + "POST and DELETE are refused to every peer but loopback ones; set admin.token, "
                    + "admin.token_file or admin.token_env"
            ])
        let guarded = try directory.write(
            Self.config(admin: "  bind: 0.0.0.0:8404\n  token_file: admin-token\n"), to: "guarded.yaml")
        let (guardedStatus, guardedLines) = try await ExecutableTests.check(guarded)
        #expect(guardedStatus == 0 && guardedLines.isEmpty, "\(guardedLines)")
        let loopback = try directory.write(Self.config(admin: "  bind: 127.0.0.1:8404\n"), to: "loopback.yaml")
        let (loopbackStatus, loopbackLines) = try await ExecutableTests.check(loopback)
        #expect(loopbackStatus == 0 && loopbackLines.isEmpty, "\(loopbackLines)")
    }

    @Test("token_env: check and run take the token from the environment; unset, check fails with file:line:col")
    func tokenFromEnvironment() async throws {
        let directory = try TemporaryDirectory(prefix: "check-env")
        defer { directory.remove() }
        let file = try directory.write(
            Self.config(admin: "  bind: 0.0.0.0:8404\n  token_env: BF_TEST_ADMIN_TOKEN\n"), to: "env.yaml")
        var environment = ProcessInfo.processInfo.environment
        environment["BF_TEST_ADMIN_TOKEN"] = "from-env"
        let set = try await CommandLineTool.run(
            try ExecutableTests.executable(), ["check", "--config", file], timeout: .seconds(10),
            environment: environment)
        #expect(set.status == 0 && set.stderr.isEmpty, "\(set.stderr)")
        environment["BF_TEST_ADMIN_TOKEN"] = nil
        let unset = try await CommandLineTool.run(
            try ExecutableTests.executable(), ["check", "--config", file], timeout: .seconds(10),
            environment: environment)
        #expect(unset.status == 1)
        #expect(
            unset.stderr.contains(
                "\(file):3:14: admin.token_env: environment variable `BF_TEST_ADMIN_TOKEN` is not set"),
            "\(unset.stderr)")
    }

    @Test("token_file: read at start and again on reload (a rotated token applies, the old one is refused)")
    func tokenFileRotates() async throws {
        let directory = try TemporaryDirectory(prefix: "admin-token-file")
        defer { directory.remove() }
        let admin = FreePort.next()
        let tokenFile = try directory.write("first\n", to: "admin-token")
        let file = try directory.write(
            Self.config(admin: "  bind: 127.0.0.1:\(admin)\n  token_file: admin-token\n"), to: "front.yaml")
        try await ExecutableTests.withRunningFront(config: file, in: directory) { child, _ in
            func sessions(_ token: String?) async throws -> Int {
                let headers = token.map { ["Authorization": "Bearer \($0)"] } ?? [:]
                return try await HTTPTestClient.get(port: admin, path: "/sessions", headers: headers).status
            }
            #expect(
                await Poll.until(timeout: .seconds(5)) {
                    (try? await HTTPTestClient.get(port: admin, path: "/status").status) == 200
                })
            #expect(try await sessions(nil) == 401)
            #expect(try await sessions("first") == 200)
            _ = try directory.write("second\n", to: "admin-token")
            let reload = try await HTTPTestClient.request(
                method: "POST", port: admin, path: "/reload", headers: ["Authorization": "Bearer first"])
            #expect(reload.status == 200, "\(reload.body)")
            #expect(await child.waitForOutput(containing: "admin token applied", timeout: .seconds(5)))
            #expect(try await sessions("first") == 401)
            #expect(try await sessions("second") == 200)
            // A token file that went missing fails the reload whole; the token in force stays.
            try FileManager.default.removeItem(atPath: tokenFile)
            let broken = try await HTTPTestClient.request(
                method: "POST", port: admin, path: "/reload", headers: ["Authorization": "Bearer second"])
            #expect(broken.status == 422)
            #expect(broken.body.contains("admin.token_file"), "\(broken.body)")
            #expect(try await sessions("second") == 200)
        }
    }
}
