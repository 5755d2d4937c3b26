import Foundation
import Testing

@testable import FrontControl

@Suite("status page: structure and escaping")
struct StatusPageTests {
    /// A report as `GET /status` would send it.
    static func report(_ json: String) throws -> StatusReport {
        try JSONDecoder().decode(StatusReport.self, from: Data(json.utf8))
    }

    static let sample = """
        {"listeners":[{"name":"mqtt","bind":"127.0.0.1:1883","protocol":"mqtt","active_connections":1234}],
         "backends":[
          {"name":"brokers","active_server":null,"servers":[
            {"name":"b1","address":"127.0.0.1:18831","state":"up","backup":false,"active_connections":700,
             "total_connections":9000,"last_check":{"ok":true,"duration_ms":1.25,"message":"CONNACK 0"}},
            {"name":"b2","address":"127.0.0.1:18832","state":"down","backup":false,"active_connections":0,
             "total_connections":12,"last_check":{"ok":false,"duration_ms":1000,"message":"timed out"}},
            {"name":"b3","address":"127.0.0.1:18833","state":"drain","backup":false,"active_connections":534,
             "total_connections":600,"last_check":null}]},
          {"name":"redis","active_server":"primary","servers":[
            {"name":"primary","address":"127.0.0.1:6379","state":"up","backup":false,"active_connections":3,
             "total_connections":3,"last_check":null},
            {"name":"replica","address":"127.0.0.1:6389","state":"maint","backup":true,"active_connections":0,
             "total_connections":0,"last_check":null}]}]}
        """

    func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    @Test("a draining front says so in a tile (server-rendered and in the refresh script); a serving one does not")
    func drainingTile() throws {
        let tile = #"<div class="n">draining</div><div class="l">shutting down: listeners closed</div>"#
        let draining = Self.sample.dropLast() + #","draining":true}"#
        #expect(StatusPage.render(try Self.report(String(draining)), title: "t").contains(tile))
        let serving = Self.sample.dropLast() + #","draining":false}"#
        #expect(!StatusPage.render(try Self.report(String(serving)), title: "t").contains(tile))
        #expect(!StatusPage.render(try Self.report(Self.sample), title: "t").contains(tile))
        #expect(StatusPage.render(try Self.report(Self.sample), title: "t").contains("if (r.draining)"))
    }

    @Test("the relay tile: sessions on relay threads with their slice; none without relay threads")
    func relayTile() throws {
        let withRelay = Self.sample.dropLast() + #","relay":{"threads":2,"slice":"100us","sessions":4321}}"#
        let page = StatusPage.render(try Self.report(String(withRelay)), title: "t")
        #expect(page.contains(#"<div class="n">4,321</div><div class="l">on 2 relay threads, slice 100us</div>"#))
        let one = Self.sample.dropLast() + #","relay":{"threads":1,"slice":"<b>","sessions":0}}"#
        #expect(
            StatusPage.render(try Self.report(String(one)), title: "t").contains("on 1 relay thread, slice &lt;b&gt;"))
        let none = Self.sample.dropLast() + #","relay":{"threads":0,"slice":null,"sessions":0}}"#
        #expect(!StatusPage.render(try Self.report(String(none)), title: "t").contains(#"<div class="l">on "#))
        #expect(!StatusPage.render(try Self.report(Self.sample), title: "t").contains(#"<div class="l">on "#))
    }

    @Test("a whole document: listeners, one card per backend, one row per server, colour-coded states")
    func structure() throws {
        let page = StatusPage.render(try Self.report(Self.sample), title: "brokerfront")
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<title>brokerfront</title>"))
        #expect(page.contains(#"<section class="card" id="listeners">"#))
        #expect(page.contains(#"<td class="num">1,234</td>"#))
        #expect(occurrences(of: #"<section class="card backend">"#, in: page) == 2)
        #expect(occurrences(of: #"<tr class="server"#, in: page) == 5)
        for state in ["up", "down", "drain", "maint"] {
            #expect(page.contains(#"<span class="state state-\#(state)">\#(state)</span>"#))
        }
        #expect(page.contains(#"<tr class="server active"><td>primary <span class="tag tag-active">active</span>"#))
        #expect(page.contains("active server <b>primary</b>"))
        #expect(page.contains("active server &mdash;"))
        #expect(page.contains(#"<span class="tag">backup</span>"#))
        #expect(
            page.contains(#"&#10003; ok</span> <span class="mono">1.3 ms</span> <span class="muted">CONNACK 0</span>"#))
        #expect(page.contains(#"&#10007; failed</span> <span class="mono">1000.0 ms</span>"#))
        #expect(page.contains(#"<span class="muted">no check</span>"#))
        #expect(page.contains(#"<div class="tile warn"><div class="n">2 / 5</div><div class="l">servers up</div>"#))
        #expect(page.contains(#"<noscript><meta http-equiv="refresh" content="5"></noscript>"#))
    }

    @Test("live: an inline script polls /status every 2 s and builds nodes with textContent")
    func script() throws {
        let page = StatusPage.render(try Self.report(Self.sample), title: "t")
        #expect(occurrences(of: "<script", in: page) == 1)
        #expect(page.contains(#"fetch("/status", { cache: "no-store" })"#))
        #expect(page.contains("setTimeout(tick, 2000)"))
        #expect(page.contains("textContent"))
        #expect(!page.contains("innerHTML"))
        #expect(!page.contains("<script src"))
        #expect(!page.contains("<link"))
    }

    @Test("self-contained: no http:// or https:// anywhere")
    func noExternalURLs() throws {
        let page = StatusPage.render(try Self.report(Self.sample), title: "brokerfront").lowercased()
        #expect(!page.contains("http://"))
        #expect(!page.contains("https://"))
        #expect(!page.contains("//cdn"))
    }

    @Test("every string from config or checks is escaped, and an unknown state never becomes a class")
    func escaping() throws {
        let hostile = #"<script>alert(\"x\")</script>&'"#
        let json = """
            {"listeners":[{"name":"\(hostile)","bind":"<b>","protocol":"mqtt\\"x","active_connections":0}],
             "backends":[{"name":"\(hostile)","active_server":"\(hostile)","servers":[
               {"name":"\(hostile)","address":"a\\"><img src=x onerror=alert(1)>","state":"up\\" onclick=\\"x",
                "backup":false,"active_connections":0,"total_connections":0,
                "last_check":{"ok":false,"duration_ms":0,"message":"\(hostile)"}}]}]}
            """
        let page = StatusPage.render(try Self.report(json), title: "<i>t</i>")
        #expect(!page.contains("<script>alert"))
        #expect(!page.contains("<img"))
        #expect(!page.contains("<i>t</i>"))
        #expect(!page.contains("onclick=\""))
        #expect(page.contains("<title>&lt;i&gt;t&lt;/i&gt;</title>"))
        #expect(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"))
        #expect(page.contains(#"<span class="state state-other">up&quot; onclick=&quot;x</span>"#))
        #expect(occurrences(of: "<script", in: page) == 1)
    }

    @Test("escape covers the five characters that matter")
    func escapeFunction() {
        #expect(StatusPage.escape(#"a<b>&"c"'d"#) == "a&lt;b&gt;&amp;&quot;c&quot;&#39;d")
        #expect(StatusPage.escape("plain ünïcode") == "plain ünïcode")
    }

    @Test("escape works on Unicode scalars: a prepended mark (U+0600) or a combining one never carries a < through")
    func escapeScalars() {
        let hostile = "-\u{0600}<img src=x onerror=alert(1) \u{0600}>\u{0600}\"\u{0600}'\u{0600}&"
        let escaped = StatusPage.escape(hostile)
        #expect(!escaped.unicodeScalars.contains("<"))
        #expect(!escaped.unicodeScalars.contains(">"))
        #expect(!escaped.unicodeScalars.contains("\""))
        #expect(!escaped.unicodeScalars.contains("'"))
        #expect(
            escaped == "-\u{0600}&lt;img src=x onerror=alert(1) \u{0600}&gt;\u{0600}&quot;\u{0600}&#39;\u{0600}&amp;")
        // A combining mark after `<` (one grapheme cluster `<\u{0301}`) is escaped as well.
        #expect(StatusPage.escape("<\u{0301}b") == "&lt;\u{0301}b")
        // In a page: a check message is shown as text.
        let page = StatusPage.check(StatusReport.LastCheck(ok: false, duration_ms: 1, message: hostile))
        #expect(!String(String.UnicodeScalarView(page.unicodeScalars.filter { $0 != "\u{0600}" })).contains("<img"))
    }

    @Test("an empty report still renders a page")
    func emptyReport() throws {
        let page = StatusPage.render(try Self.report(#"{"listeners":[],"backends":[]}"#), title: "x")
        #expect(page.contains(#"<div class="n">0 / 0</div>"#))
        #expect(page.hasSuffix("</html>\n"))
    }
}
