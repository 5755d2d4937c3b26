/// The HTML status page behind the admin plane's `GET /`: a page a person reads, built from the same
/// ``StatusReport`` as `GET /status`.
///
/// Self-contained: styles and script are inline and nothing is loaded from elsewhere. The server renders
/// the state at request time (so the page reads without scripts, and a `<noscript>` refresh reloads it);
/// an inline script then fetches `/status` every 2 s and rebuilds the same markup with DOM calls
/// (`textContent`, never `innerHTML`). Every string from config or checks is HTML-escaped here. Pure:
/// call it from any thread.
///
/// Besides the state, the page carries the operator's actions (per server: evacuate, drain, maint,
/// ready; per backend: rebalance), the progress of moves, a searchable session table and charts of the
/// last 15 minutes (`GET /status/history`); those parts are in the `StatusPage+…` files.
public enum StatusPage {
    /// The whole document for `report`, titled `title` (escaped).
    public static func render(_ report: StatusReport, title: String) -> String {
        let safeTitle = escape(title)
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(safeTitle)</title>
            <noscript><meta http-equiv="refresh" content="5"></noscript>
            <style>\(style)</style>
            </head>
            <body>
            <header><h1>\(safeTitle)</h1><span id="live" class="live"><span class="dot"></span><span id="live-text">\
            server-rendered; live updates need JavaScript</span></span></header>
            \(tokenForm)
            <main id="status">
            \(body(report))
            </main>
            <div class="panels">
            \(charts)
            \(sessions)
            </div>
            <footer>Data: <a href="/status">/status</a> (JSON) &middot; <a href="/metrics">/metrics</a> (Prometheus) \
            &middot; <a href="/status/history">/status/history</a> (JSON) &middot; refreshed every 2 s</footer>
            <script>\(script)</script>
            </body>
            </html>

            """
    }

    /// The contents of `<main>`: summary tiles, the listeners table and one card per backend.
    static func body(_ report: StatusReport) -> String {
        var parts = [summary(report), listeners(report.listeners)]
        parts += report.backends.map(backend)
        return parts.joined(separator: "\n")
    }

    /// The tiles: active sessions, servers up, backends, backends with no server up (warn/bad colours).
    static func summary(_ report: StatusReport) -> String {
        let sessions = report.listeners.reduce(0) { $0 + $1.active_connections }
        let servers = report.backends.flatMap(\.servers)
        let up = servers.filter { $0.state == "up" }.count
        let dead = report.backends.filter { backend in !backend.servers.contains { $0.state == "up" } }.count
        func tile(_ number: String, _ label: String, _ extra: String = "") -> String {
            #"<div class="tile\#(extra)"><div class="n">\#(number)</div><div class="l">\#(label)</div></div>"#
        }
        return #"<section class="summary">"#
            + tile(grouped(sessions), "active sessions")
            + tile("\(up) / \(servers.count)", "servers up", up < servers.count ? " warn" : "")
            + tile("\(report.backends.count)", "backends")
            + tile("\(dead)", "backends with no server up", dead > 0 ? " bad" : "")
            + relayTile(report.relay, tile)
            + (report.draining == true ? tile("draining", "shutting down: listeners closed", " warn") : "")
            + "</section>"
    }

    /// Of the active sessions, those on relay threads; nothing when the front runs none.
    static func relayTile(_ relay: StatusReport.Relay?, _ tile: (String, String, String) -> String) -> String {
        guard let relay, relay.threads > 0 else { return "" }
        let threads = relay.threads == 1 ? "1 relay thread" : "\(relay.threads) relay threads"
        let slice = relay.slice.map { ", slice \(escape($0))" } ?? ""
        return tile(grouped(relay.sessions), "on \(threads)\(slice)", "")
    }

    /// The listeners table: name, bind, protocol, active sessions.
    static func listeners(_ listeners: [StatusReport.Listener]) -> String {
        let rows = listeners.map { listener in
            "<tr><td>\(escape(listener.name))</td><td class=\"mono\">\(escape(listener.bind))</td>"
                + "<td>\(escape(listener.protocol))</td><td class=\"num\">\(grouped(listener.active_connections))</td></tr>"
        }
        return #"<section class="card" id="listeners"><h2>Listeners</h2><table>"#
            + #"<thead><tr><th>Name</th><th>Bind</th><th>Protocol</th><th class="num">Active</th></tr></thead>"#
            + "<tbody>\(rows.joined())</tbody></table></section>"
    }

    /// One backend card: its name, active server (`balance: first`), sessions, a backend-wide move under
    /// way, the rebalance button, and a row per server.
    static func backend(_ backend: StatusReport.Backend) -> String {
        let active = backend.active_server.map { "active server <b>\(escape($0))</b>" } ?? "active server &mdash;"
        let sessions = backend.servers.reduce(0) { $0 + $1.active_connections }
        let rows = backend.servers.map {
            server(server: $0, backend: backend.name, active: $0.name == backend.active_server)
        }
        return #"<section class="card backend"><h2><span>Backend <span class="name">"#
            + "\(escape(backend.name))</span></span><span class=\"sub\">\(active)</span>"
            + "<span class=\"sub\">\(grouped(sessions)) active sessions</span>\(backendMoving(backend))"
            + "\(rebalanceButton(backend: backend.name))</h2><table><thead><tr>"
            + #"<th>Server</th><th>Address</th><th>State</th><th>Role</th><th class="num">Active</th>"#
            + #"<th class="num">Total</th><th>Last check</th><th>Actions</th></tr></thead>"#
            + "<tbody>\(rows.joined())</tbody></table></section>"
    }

    /// One server row of `backend`; `active` marks the server `balance: first` sends new sessions to.
    static func server(server: StatusReport.Server, backend: String, active: Bool) -> String {
        let role = server.backup ? #"<span class="tag">backup</span>"# : #"<span class="tag">primary</span>"#
        let marker = active ? #" <span class="tag tag-active">active</span>"# : ""
        return "<tr class=\"server\(active ? " active" : "")\"><td>\(escape(server.name))\(marker)</td>"
            + "<td class=\"mono\">\(escape(server.address))</td>"
            + "<td><span class=\"\(stateClass(server.state))\">\(escape(server.state))</span>"
            + "\(moving(server.moving))</td>"
            + "<td>\(role)</td><td class=\"num\">\(grouped(server.active_connections))</td>"
            + "<td class=\"num\">\(grouped(server.total_connections))</td><td>\(check(server.last_check))</td>"
            + "\(actions(backend: backend, server: server.name, state: server.state))</tr>"
    }

    /// The last health check: verdict, duration and message, or "no check".
    static func check(_ check: StatusReport.LastCheck?) -> String {
        guard let check else { return #"<span class="muted">no check</span>"# }
        let verdict =
            check.ok
            ? #"<span class="check-ok">&#10003; ok</span>"# : #"<span class="check-fail">&#10007; failed</span>"#
        let message = check.message.isEmpty ? "" : " <span class=\"muted\">\(escape(check.message))</span>"
        return "\(verdict) <span class=\"mono\">\(milliseconds(check.duration_ms))</span>\(message)"
    }

    /// `state state-up` for the four known states, `state state-other` for anything else (never the raw word).
    static func stateClass(_ state: String) -> String {
        ["up", "down", "drain", "maint"].contains(state) ? "state state-\(state)" : "state state-other"
    }

    /// `12.3 ms`, one decimal.
    static func milliseconds(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10)) ms"
    }

    /// `1234567` → `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    /// Text safe in HTML content and in double- or single-quoted attributes. Walks Unicode scalars, not
    /// characters: a grapheme cluster may join a `<` to the scalar before it (U+0600 does), and such a
    /// cluster is not equal to `"<"`, but the browser's tokenizer still sees the `<`.
    public static func escape(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result.append(contentsOf: "&amp;".unicodeScalars)
            case "<": result.append(contentsOf: "&lt;".unicodeScalars)
            case ">": result.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": result.append(contentsOf: "&quot;".unicodeScalars)
            case "'": result.append(contentsOf: "&#39;".unicodeScalars)
            default: result.append(scalar)
            }
        }
        return String(result)
    }
}
