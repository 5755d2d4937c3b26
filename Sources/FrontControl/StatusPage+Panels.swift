extension StatusPage {
    /// The charts drawn by the script: id, title, and what one line measures.
    static let chartList = [
        ("chart-sessions", "Sessions", "sessions open"),
        ("chart-connects", "Connects/s", "connections accepted per second"),
        ("chart-refusals", "Refusals/s by reason", "connections refused per second, by reason"),
        ("chart-moves", "Moves/s", "sessions moved per second"),
    ]

    /// The token form (hidden until an action answers 401) and the line that shows an action's answer.
    /// The token is kept in the tab's `sessionStorage`, never in the page.
    static let tokenForm = """
        <form id="token-form" class="token" hidden><label for="token-input" id="token-text">This admin plane \
        needs its token</label> <input id="token-input" type="password" autocomplete="off" \
        placeholder="admin token"> <button type="submit">Use token</button> \
        <button type="button" id="token-cancel">Cancel</button></form>
        <div id="notice" class="notice" role="status" hidden></div>
        """

    /// The charts of the last 15 minutes: one `<svg>` per chart, drawn by the script from
    /// `GET /status/history` (the server renders the frames only).
    static var charts: String {
        let figures = chartList.map { id, title, label in
            "<figure class=\"chart\" id=\"\(id)\"><figcaption>\(title) <span class=\"now\"></span></figcaption>"
                + "<svg viewBox=\"0 0 600 150\" role=\"img\" "
                + "aria-label=\"\(label), last 15 minutes\"></svg>"
                + "<div class=\"legend muted\">needs JavaScript</div></figure>"
        }
        return #"<section class="card" id="charts"><h2><span>Last 15 minutes</span>"#
            + #"<span class="sub" id="charts-note">a sample every 5 s</span></h2>"#
            + "<div class=\"charts\">\(figures.joined())</div></section>"
    }

    /// The session table: exact client id and server filters, pages of 50, a Close and a Move button
    /// per session; filled by the script from `GET /sessions`.
    static let sessions = """
        <section class="card" id="sessions"><h2><span>Sessions</span><span class="sub" id="sessions-count">\
        </span></h2>
        <form id="session-search" class="bar"><label>Client id <input id="q-client" type="search" \
        placeholder="exact client id" autocomplete="off"></label> <label>Server <input id="q-server" \
        type="search" placeholder="server name" autocomplete="off"></label> <button type="submit">Search</button> \
        <button type="button" id="q-clear">Clear</button></form>
        <table id="session-table"><thead><tr><th>Client id</th><th>Server</th><th>Client address</th>\
        <th class="num">Age</th><th class="num">Bytes in</th><th class="num">Bytes out</th><th>Actions</th>\
        </tr></thead><tbody id="session-rows"><tr><td colspan="7" class="muted">the session list needs \
        JavaScript</td></tr></tbody></table>
        <div class="pager"><button type="button" id="page-prev" disabled>Previous</button> \
        <span id="page-text" class="muted"></span> <button type="button" id="page-next" disabled>Next</button></div>
        </section>
        """
}
