import Foundation
import Testing

@testable import FrontControl

/// The status page's operator parts: action buttons, move progress, charts, session table, token flow.
@Suite("status page: actions, moves, charts, sessions")
struct StatusPagePanelsTests {
    func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// The sample report with a move under way on `b1` and one across `brokers`.
    static func moving() throws -> StatusReport {
        var report = try StatusPageTests.report(StatusPageTests.sample)
        let move =
            #"{"remaining":120,"rate":50,"cause":"evacuate","moved":30,"started":"2026-01-01T00:00:00Z","eta_seconds":2.4}"#
        report.backends[0].servers[0].moving = try JSONDecoder().decode(StatusReport.Moving.self, from: Data(move.utf8))
        let wide =
            #"{"remaining":5,"rate":0,"cause":"rebalance","moved":0,"started":"2026-01-01T00:00:00Z","eta_seconds":0}"#
        report.backends[0].moving = try JSONDecoder().decode(StatusReport.Moving.self, from: Data(wide.utf8))
        report.backends[0].waiting_to_move = 125
        return report
    }

    @Test("every server row has Evacuate, Drain, Maint and Ready; the current state's button is disabled")
    func serverActions() throws {
        let page = StatusPage.render(try StatusPageTests.report(StatusPageTests.sample), title: "t")
        for action in ["evacuate", "drain", "maint", "ready"] {
            #expect(occurrences(of: #"data-action="\#(action)""#, in: page) == 5, "\(action)")
        }
        #expect(
            page.contains(
                #"<button type="button" class="act act-evacuate" data-action="evacuate" data-backend="brokers" "#
                    + #"data-server="b1">Evacuate</button>"#))
        #expect(page.contains(#"data-action="drain" data-backend="brokers" data-server="b3" disabled>Drain</button>"#))
        #expect(
            page.contains(#"data-action="maint" data-backend="redis" data-server="replica" disabled>Maint</button>"#))
        #expect(occurrences(of: " disabled>", in: page) == 2 + 2)  // drain, maint; Previous and Next of the pager
        #expect(occurrences(of: #"data-action="rebalance""#, in: page) == 2)
        #expect(page.contains("<th>Actions</th>"))
    }

    @Test("backend and server names in data attributes are escaped")
    func actionEscaping() {
        let cell = StatusPage.actions(backend: #"b"><img src=x>"#, server: "s'&", state: "up")
        #expect(!cell.contains("<img"))
        #expect(cell.contains(#"data-backend="b&quot;&gt;&lt;img src=x&gt;" data-server="s&#39;&amp;""#))
        #expect(!StatusPage.rebalanceButton(backend: "<x>").contains("<x>"))
    }

    @Test("a move under way: a progress bar and cause, sessions left, rate and eta, per server and per backend")
    func moveProgress() throws {
        let page = StatusPage.render(try Self.moving(), title: "t")
        #expect(page.contains(#"<progress max="150" value="30"></progress>"#))
        #expect(page.contains(#"<span class="muted">evacuate: 120 left, 50/s, eta 2.4 s</span>"#))
        #expect(page.contains(#"<progress max="5" value="0"></progress>"#))
        #expect(page.contains("rebalance: 5 left, all at once"))
        #expect(page.contains(#"<span class="sub">125 waiting to move</span>"#))
        #expect(occurrences(of: "<progress", in: page) == 2)
        let still = StatusPage.render(try StatusPageTests.report(StatusPageTests.sample), title: "t")
        #expect(!still.contains("<progress"))
        #expect(!still.contains("waiting to move</span>"))
    }

    @Test("eta: tenths of a second under a minute, else minutes and seconds")
    func eta() {
        #expect(StatusPage.eta(2.4) == "2.4 s")
        #expect(StatusPage.eta(0) == "0.0 s")
        #expect(StatusPage.eta(200) == "3 min 20 s")
    }

    @Test("charts: four frames the script draws into; the session table with its search form and pager")
    func panels() throws {
        let page = StatusPage.render(try StatusPageTests.report(StatusPageTests.sample), title: "t")
        #expect(page.contains(#"<section class="card" id="charts">"#))
        for id in ["chart-sessions", "chart-connects", "chart-refusals", "chart-moves"] {
            #expect(page.contains(#"<figure class="chart" id="\#(id)">"#), "\(id)")
        }
        #expect(occurrences(of: "<svg viewBox=", in: page) == 4)
        #expect(page.contains(#"<section class="card" id="sessions">"#))
        #expect(page.contains(#"<input id="q-client" type="search""#))
        #expect(page.contains(#"<tbody id="session-rows">"#))
        #expect(page.contains(#"<form id="token-form" class="token" hidden>"#))
        #expect(page.contains(#"<div id="notice" class="notice" role="status" hidden></div>"#))
    }

    @Test("the script: history, sessions and actions over fetch, the token in sessionStorage, never innerHTML")
    func script() throws {
        let page = StatusPage.render(try StatusPageTests.report(StatusPageTests.sample), title: "t")
        #expect(occurrences(of: "<script", in: page) == 1)
        #expect(page.contains(#"fetch("/status/history", { cache: "no-store" })"#))
        #expect(page.contains(#"api("GET", "/sessions?" + params.join("&"))"#))
        #expect(page.contains("res.status === 401"))
        #expect(page.contains(#"headers.Authorization = "Bearer " + sent"#))
        #expect(page.contains(#"headers["Content-Type"] = "application/json""#))
        #expect(page.contains("sessionStorage.setItem(TOKEN_KEY, given)"))
        #expect(page.contains("/evacuate"))
        #expect(page.contains("createElementNS(svg.namespaceURI"))
        #expect(!page.contains("innerHTML"))
        #expect(!page.lowercased().contains("http://"))
        #expect(!page.lowercased().contains("https://"))
    }
}
