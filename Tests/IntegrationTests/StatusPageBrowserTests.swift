import Foundation
import FrontTesting
import Testing

/// The HTML status page as a person sees it: loaded in Debian's headless chromium, after its
/// script has fetched `/status` and rendered.
@Suite("Status page in a browser")
struct StatusPageBrowserTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
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
                let flags = [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--user-data-dir=\(directory.path)/profile", "--virtual-time-budget=3000",
                ]
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
}
