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

    /// Where screenshots are kept besides the test's own directory (removed afterwards): the directory in
    /// `STATUS_PAGE_SCREENSHOTS`, to look at them; nowhere when unset.
    static let screenshots = ProcessInfo.processInfo.environment["STATUS_PAGE_SCREENSHOTS"]

    /// The page at `url` as chromium's DOM after its script ran, loaded again (at most 3 times) until
    /// `ready` holds: the fetches run within chromium's virtual time budget, which a loaded machine can outrun.
    static func dump(_ chromium: String, _ flags: [String], _ url: String, until ready: (String) -> Bool)
        async throws -> String
    {
        var dom = ""
        for _ in 0..<3 where !ready(dom) {
            let run = try await CommandLineTool.run(chromium, flags + ["--dump-dom", url], timeout: .seconds(60))
            #expect(run.status == 0, "\(run.stderr)")
            dom = run.stdout
        }
        return dom
    }

    /// A screenshot of the whole page (`size` wide,tall) into `directory`, copied as `name` to
    /// ``screenshots`` when set.
    static func screenshot(
        _ chromium: String, _ flags: [String], _ url: String, directory: TemporaryDirectory, name: String,
        size: String = "1280,1900"
    ) async throws {
        let shot = "\(directory.path)/\(name)"
        let picture = try await CommandLineTool.run(
            chromium, flags + ["--screenshot=\(shot)", "--window-size=\(size)", "--hide-scrollbars", url],
            timeout: .seconds(60))
        #expect(picture.status == 0, "\(picture.stderr)")
        let bytes = (try? FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
        #expect(bytes > 10_000, "screenshot of \(bytes) bytes")
        if let target = screenshots {
            try? FileManager.default.removeItem(atPath: "\(target)/\(name)")
            try FileManager.default.copyItem(atPath: shot, toPath: "\(target)/\(name)")
        }
    }

    @Test(
        "headless chromium renders every server and its state, the server actions, a live session and the charts",
        .enabled(if: chromium != nil, "chromium is not installed (make test installs it)"))
    func rendersServers() async throws {
        guard let chromium = Self.chromium else { return }
        try await withMosquittos(2) { brokers in
            let config = TestConfig.mqttFront(ports: brokers.map(\.port) + [FreePort.refusing()], admin: true)
            try await withFront(config) { front in
                let (client, _) = try await MQTTTestClient.connect(port: try front.port(), clientID: "viewer")
                let admin = try #require(front.runner.adminPort)
                // Samples in three different seconds (the front samples every 5 s by itself), so the charts
                // have lines and rates.
                let history = front.runner.history
                let sampled = await Poll.until(timeout: .seconds(10), interval: .milliseconds(400)) {
                    history.sample()
                    return Set(history.samples.map(\.t)).count >= 3
                }
                #expect(sampled)
                let directory = try TemporaryDirectory(prefix: "chromium")
                defer { directory.remove() }
                let flags = Self.flags(profile: directory)
                let url = "http://127.0.0.1:\(admin)/"
                let sessionRow = #"<td class="mono">viewer</td>"#
                let dom = try await Self.dump(chromium, flags, url) {
                    $0.contains(sessionRow) && $0.contains("<polyline")
                }
                for name in ["b1", "b2", "b3", "mqtt", "brokers"] {
                    #expect(dom.contains(name), "the rendered page lacks \(name)")
                }
                #expect(dom.contains("up"))
                #expect(!dom.contains("http://") || !dom.contains("<script src"), "no external assets")
                // Per server: Evacuate, Drain, Maint, Ready (3 servers); per backend: Rebalance.
                for action in ["evacuate", "drain", "maint", "ready"] {
                    #expect(
                        dom.components(separatedBy: #"data-action="\#(action)""#).count - 1 == 3,
                        "\(action) buttons")
                }
                #expect(dom.contains(#"data-action="rebalance" data-backend="brokers""#))
                // The session table, filled from GET /sessions: the client through the front, with its actions.
                #expect(dom.contains(sessionRow), "no session row for viewer")
                #expect(dom.contains(#"data-action="move" data-client="viewer""#))
                #expect(dom.contains(#"data-action="close" data-client="viewer""#))
                #expect(dom.contains("1 live"))
                // The charts, drawn from GET /status/history.
                for id in ["chart-sessions", "chart-connects", "chart-refusals", "chart-moves"] {
                    #expect(dom.contains(#"id="\#(id)""#), "\(id)")
                }
                #expect(dom.components(separatedBy: "<polyline").count - 1 >= 4, "a line per chart")
                #expect(dom.contains("none refused"))
                #expect(!dom.contains(#"<form id="token-form" class="token">"#), "no token asked for without one")
                try await Self.screenshot(chromium, flags, url, directory: directory, name: "status-page.png")
                await client.disconnect()
            }
        }
    }

    @Test(
        "with an admin token, the page asks for it when GET /sessions answers 401",
        .enabled(if: chromium != nil, "chromium is not installed (make test installs it)"))
    func asksForToken() async throws {
        guard let chromium = Self.chromium else { return }
        var config = TestConfig.mqttFront(ports: [FreePort.refusing()], admin: true)
        config.admin?.token = "s3cret"
        try await withFront(config) { front in
            let admin = try #require(front.runner.adminPort)
            let directory = try TemporaryDirectory(prefix: "chromium")
            defer { directory.remove() }
            let flags = Self.flags(profile: directory)
            let url = "http://127.0.0.1:\(admin)/"
            let shown = #"<form id="token-form" class="token">"#
            let dom = try await Self.dump(chromium, flags, url) { $0.contains(shown) }
            #expect(dom.contains(shown), "the token form stayed hidden")
            #expect(dom.contains("This admin plane needs its token:"))
            // The table waits for the token instead of showing rows or an error.
            #expect(dom.contains("the session list needs JavaScript"))
            #expect(dom.contains(#"class="live ok""#), "/status stays open without the token")
            try await Self.screenshot(
                chromium, flags, url, directory: directory, name: "status-page-token.png", size: "1280,900")
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
