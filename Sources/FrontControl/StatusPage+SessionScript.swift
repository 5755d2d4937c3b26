extension StatusPage {
    /// The session table part of the inline script: `GET /sessions` with the exact client id and
    /// server the search form holds, 50 rows a page (Previous / Next follow `offset`), again every
    /// 10 s and after a Close or Move. A 401 goes through the token form like any action.
    static let sessionScript = #"""
          var PAGE = 50, query = { client: "", server: "", offset: 0 }, sessionsBusy = false;
          function age(v) {
            v = Math.max(Math.floor(Number(v || 0)), 0);
            if (v < 60) return v + " s";
            if (v < 3600) return Math.floor(v / 60) + " min " + (v % 60) + " s";
            if (v < 86400) return Math.floor(v / 3600) + " h " + Math.floor((v % 3600) / 60) + " min";
            return Math.floor(v / 86400) + " d " + Math.floor((v % 86400) / 3600) + " h";
          }
          function sessionRow(s) {
            var where = s.server ? (s.backend ? s.backend + " / " : "") + s.server : "\u2014";
            var tools = el("td", "actions");
            if (s.client_id !== null && s.client_id !== undefined) {
              add(tools, button("move", "Move", { client: s.client_id }), button("close", "Close", { client: s.client_id }));
            }
            var id = s.client_id === null || s.client_id === undefined ? el("td", "muted", "(sending CONNECT)") : cell("mono", s.client_id);
            return add(el("tr", "session"), id, cell("", where), cell("mono", s.client), cell("num", age(s.age_seconds)),
              cell("num", num(s.bytes_in)), cell("num", num(s.bytes_out)), tools);
          }
          function showSessions(page) {
            var rows = document.getElementById("session-rows");
            while (rows.firstChild) rows.removeChild(rows.firstChild);
            page.sessions.forEach(function (s) { add(rows, sessionRow(s)); });
            if (page.sessions.length === 0) {
              var none = el("td", "muted", query.client || query.server ? "no session matches" : "no sessions");
              none.colSpan = 7;
              add(rows, add(el("tr"), none));
            }
            var first = page.sessions.length ? page.offset + 1 : 0;
            document.getElementById("page-text").textContent =
              num(first) + "\u2013" + num(page.offset + page.sessions.length) + " of " + num(page.total);
            document.getElementById("sessions-count").textContent = num(page.total) + (query.client || query.server ? " matching" : " live");
            document.getElementById("page-prev").disabled = page.offset === 0;
            document.getElementById("page-next").disabled = page.next_offset === null || page.next_offset === undefined;
          }
          function fetchSessions() {
            var params = ["offset=" + query.offset, "limit=" + PAGE];
            if (query.client) params.push("client_id=" + encodeURIComponent(query.client));
            if (query.server) params.push("server=" + encodeURIComponent(query.server));
            return api("GET", "/sessions?" + params.join("&"));
          }
          function loadSessions() {
            if (sessionsBusy) return;
            sessionsBusy = true;
            fetchSessions()
              .then(function (page) {
                if (page.sessions.length > 0 || query.offset === 0 || page.total === 0) return page;
                // Sessions ended since: the last page that has some.
                query.offset = Math.max(0, Math.floor((page.total - 1) / PAGE) * PAGE);
                return fetchSessions();
              })
              .then(showSessions, function (err) {
                document.getElementById("sessions-count").textContent = "not listed: " + err.message;
              })
              .then(function () { sessionsBusy = false; });
          }
          document.getElementById("session-search").addEventListener("submit", function (e) {
            e.preventDefault();
            query.client = document.getElementById("q-client").value.trim();
            query.server = document.getElementById("q-server").value.trim();
            query.offset = 0;
            loadSessions();
          });
          document.getElementById("q-clear").addEventListener("click", function () {
            document.getElementById("q-client").value = "";
            document.getElementById("q-server").value = "";
            query = { client: "", server: "", offset: 0 };
            loadSessions();
          });
          document.getElementById("page-prev").addEventListener("click", function () {
            query.offset = Math.max(0, query.offset - PAGE);
            loadSessions();
          });
          document.getElementById("page-next").addEventListener("click", function () {
            query.offset += PAGE;
            loadSessions();
          });
          loadSessions();
          setInterval(loadSessions, 10000);

        """#
}
