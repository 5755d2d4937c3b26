import Foundation
import FrontConfig
import FrontTesting
import Testing

/// The HTML status page as a person sees it: loaded in Debian's headless chromium, after its
/// script has fetched `/status` and rendered.
@Suite("Status page in a browser")
struct StatusPageBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Headless chromium with its profile in `profile`, given 3 s of virtual time for the page's script.
    static func flags(profile: TemporaryDirectory) -> [String] {
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--user-data-dir=\(profile.path)/profile", "--virtual-time-budget=3000",
        ]
    }

    @Test(
        "headless chromium renders the page with every server and its state",
        .enabled(if: chromium != nil, "chromium is not installed (make test installs it)"))
    func rendersServers() async throws {
        guard let chromium = Self.chromium else { return }
        try await withMosquittos(2) { brokers in
            let config = TestConfig.mqttFront(ports: brokers.map(\.port) + [FreePort.refusing()], admin: true)
            try await withFront(config) { front in
                let (client, _) = try await MQTTTestClient.connect(port: try front.port(), clientID: "viewer")
                let admin = try #require(front.runner.adminPort)
                let directory = try TemporaryDirectory(prefix: "chromium")
                defer { directory.remove() }
                let flags = Self.flags(profile: directory)
                let url = "http://127.0.0.1:\(admin)/"
                let dom = try await CommandLineTool.run(chromium, flags + ["--dump-dom", url], timeout: .seconds(60))
                #expect(dom.status == 0, "\(dom.stderr)")
                for name in ["b1", "b2", "b3", "mqtt", "brokers"] {
                    #expect(dom.stdout.contains(name), "the rendered page lacks \(name)")
                }
                #expect(dom.stdout.contains("up"))
                #expect(!dom.stdout.contains("http://") || !dom.stdout.contains("<script src"), "no external assets")
                let shot = "\(directory.path)/status.png"
                let picture = try await CommandLineTool.run(
                    chromium, flags + ["--screenshot=\(shot)", "--window-size=1200,800", url], timeout: .seconds(60))
                #expect(picture.status == 0, "\(picture.stderr)")
                let size = (try? FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
                #expect(size > 10_000, "screenshot of \(size) bytes")
                await client.disconnect()
            }
        }
    }

    @Test(
        "a hostile redis-master check reply (U+0600 before <) is shown as text in headless chromium",
        .enabled(if: chromium != nil, "chromium is not installed (make test installs it)"))
    func hostileCheckReplyIsText() async throws {
        guard let chromium = Self.chromium else { return }
        // What a fake "Redis" answers to PING: an error line carrying a script element, each `<` and `>`
        // behind a prepended mark (U+0600) that fuses with it into one grapheme cluster. Were it markup, the
        // script would run while the page is parsed and mark `<html>` (the live refresh never resets that).
        let payload =
            "-\u{0600}<script \u{0600}>document.documentElement.dataset.pwned=1;//\u{0600}</script \u{0600}>\r\n"
        let fake = try await CannedReplyServer.start(reply: Array(payload.utf8))
        do {
            try await showHostileReply(fake: fake, chromium: chromium)
        } catch {
            await fake.stop()
            throw error
        }
        await fake.stop()
    }

    private func showHostileReply(fake: CannedReplyServer, chromium: String) async throws {
        let listener = ListenerConfig(
            name: "redis", bind: Endpoint(host: "127.0.0.1", port: FreePort.next()), protocol: .tcp, backend: "redis")
        let backend = BackendConfig(
            name: "redis", balance: .first, connectTimeout: .milliseconds(500),
            // A long check timeout: on a loaded machine a check that timed out would put "timeout" on the
            // page in place of the reply.
            healthCheck: HealthCheckConfig(
                type: .redisMaster, interval: .milliseconds(200), timeout: .seconds(10), rise: 1, fall: 1),
            servers: [ServerConfig(name: "fake", address: Endpoint(host: "127.0.0.1", port: fake.port))])
        try await withFront(TestConfig.front(listeners: [listener], backends: [backend], admin: true)) { front in
            let admin = try #require(front.runner.adminPort)
            let checked = await Poll.until(timeout: .seconds(10)) {
                let status = try? await HTTPTestClient.get(port: admin, path: "/status")
                return status?.body.contains("dataset.pwned") == true
            }
            #expect(checked, "the check's reply never reached /status")
            let directory = try TemporaryDirectory(prefix: "chromium")
            defer { directory.remove() }
            let flags = Self.flags(profile: directory)
            let url = "http://127.0.0.1:\(admin)/"
            // The page as rendered by the server, then refreshed by its script: the reply is text in both, and
            // nothing from it ran (`--dump-dom` serializes text `<` as `&lt;`).
            // The live refresh is a fetch within chromium's virtual time budget, which a loaded machine can
            // outrun: the page is loaded again (at most 3 times) until it shows the refresh; every load is
            // checked for the reply as text.
            var refreshed = false
            for _ in 0..<3 where !refreshed {
                let live = try await CommandLineTool.run(chromium, flags + ["--dump-dom", url], timeout: .seconds(60))
                #expect(live.status == 0, "\(live.stderr)")
                // Compared without the marks: a mark fuses with the next character, which `contains` respects.
                let dom = String(String.UnicodeScalarView(live.stdout.unicodeScalars.filter { $0 != "\u{0600}" }))
                #expect(dom.contains("fake"), "the page lacks the server row")
                #expect(
                    dom.contains("&lt;script &gt;document.documentElement.dataset.pwned=1;//&lt;/script &gt;"), "\(dom)"
                )
                #expect(!dom.contains("data-pwned"), "script from the check's reply ran: \(dom)")
                refreshed = dom.contains(#"class="live ok""#)
            }
            // The page's own fetch of /status passes the Origin check: the live refresh ran.
            #expect(refreshed, "the live refresh never showed in 3 loads")
        }
    }
}
