extension StatusPage {
    /// The inline script, one function scope: the live status below, then the actions
    /// (``actionScript``), the session table (``sessionScript``) and the charts (``chartScript``). Every
    /// node is made with DOM calls and `textContent`, so no string from the JSON is parsed as HTML.
    static var script: String {
        let actions = serverActions.map { #"["\#($0.0)", "\#($0.1)"]"# }.joined(separator: ", ")
        return "\n(function () {\n  \"use strict\";\n  var SERVER_ACTIONS = [\(actions)];\n" + statusScript
            + actionScript + sessionScript + chartScript + "})();\n"
    }

    /// Every 2 s it fetches `/status` (same origin, relative URL) and rebuilds `<main>` with the same
    /// markup ``StatusPage/body(_:)`` renders. A failed fetch keeps the last state and marks it stale.
    static let statusScript = #"""
          var KNOWN = ["up", "down", "drain", "maint"];
          function el(tag, cls, text) {
            var node = document.createElement(tag);
            if (cls) node.className = cls;
            if (text !== undefined && text !== null) node.textContent = String(text);
            return node;
          }
          function add(parent) {
            for (var i = 1; i < arguments.length; i++) parent.appendChild(arguments[i]);
            return parent;
          }
          function num(n) { return Number(n || 0).toLocaleString("en-US"); }
          function ms(v) { return (Math.round(Number(v || 0) * 10) / 10).toFixed(1) + " ms"; }
          function tile(n, label, extra) {
            return add(el("div", "tile" + (extra || "")), el("div", "n", n), el("div", "l", label));
          }
          function table(heads) {
            var t = el("table"), tr = el("tr");
            heads.forEach(function (h) { add(tr, el("th", h.charAt(0) === "~" ? "num" : "", h.replace("~", ""))); });
            add(t, add(el("thead"), tr));
            var body = el("tbody");
            add(t, body);
            return [t, body];
          }
          function cell(cls, text) { return el("td", cls, text); }
          function summary(r) {
            var servers = [], sessions = 0, dead = 0;
            r.listeners.forEach(function (l) { sessions += l.active_connections; });
            r.backends.forEach(function (b) {
              servers = servers.concat(b.servers);
              if (!b.servers.some(function (s) { return s.state === "up"; })) dead++;
            });
            var up = servers.filter(function (s) { return s.state === "up"; }).length;
            var section = add(el("section", "summary"), tile(num(sessions), "active sessions"),
              tile(up + " / " + servers.length, "servers up", up < servers.length ? " warn" : ""),
              tile(String(r.backends.length), "backends"),
              tile(String(dead), "backends with no server up", dead > 0 ? " bad" : ""));
            if (r.draining) add(section, tile("draining", "shutting down: listeners closed", " warn"));
            var relay = r.relay;
            if (relay && relay.threads > 0) {
              var label = "on " + (relay.threads === 1 ? "1 relay thread" : relay.threads + " relay threads") +
                (relay.slice ? ", slice " + relay.slice : "");
              add(section, tile(num(relay.sessions), label));
            }
            return section;
          }
          function listeners(list) {
            var card = el("section", "card"), t = table(["Name", "Bind", "Protocol", "~Active"]);
            card.id = "listeners";
            list.forEach(function (l) {
              add(t[1], add(el("tr"), cell("", l.name), cell("mono", l.bind), cell("", l.protocol),
                cell("num", num(l.active_connections))));
            });
            return add(card, el("h2", "", "Listeners"), t[0]);
          }
          function check(c) {
            var td = el("td");
            if (!c) return add(td, el("span", "muted", "no check"));
            add(td, el("span", c.ok ? "check-ok" : "check-fail", c.ok ? "\u2713 ok" : "\u2717 failed"),
              document.createTextNode(" "), el("span", "mono", ms(c.duration_ms)));
            if (c.message) add(td, document.createTextNode(" "), el("span", "muted", c.message));
            return td;
          }
          function eta(v) {
            v = Math.max(Number(v || 0), 0);
            if (v < 60) return (Math.round(v * 10) / 10).toFixed(1) + " s";
            v = Math.round(v);
            return Math.floor(v / 60) + " min " + (v % 60) + " s";
          }
          function moving(m) {
            var box = el("div", "moving"), bar = el("progress");
            bar.max = Math.max(m.moved + m.remaining, 1);
            bar.value = Math.min(m.moved, bar.max);
            var pace = m.rate > 0 ? num(m.rate) + "/s, eta " + eta(m.eta_seconds) : "all at once";
            return add(box, bar, document.createTextNode(" "),
              el("span", "muted", m.cause + ": " + num(m.remaining) + " left, " + pace));
          }
          function button(action, label, data) {
            var b = el("button", "act act-" + action, label);
            b.type = "button";
            b.dataset.action = action;
            Object.keys(data).forEach(function (k) { b.dataset[k] = data[k]; });
            return b;
          }
          function actions(b, s) {
            var td = el("td", "actions");
            SERVER_ACTIONS.forEach(function (a) {
              var btn = button(a[0], a[1], { backend: b, server: s.name });
              btn.disabled = a[0] === s.state;
              add(td, btn);
            });
            return td;
          }
          function server(s, b, active) {
            var name = add(el("td"), document.createTextNode(s.name));
            if (active) add(name, document.createTextNode(" "), el("span", "tag tag-active", "active"));
            var state = KNOWN.indexOf(s.state) >= 0 ? "state state-" + s.state : "state state-other";
            var stateCell = add(el("td"), el("span", state, s.state));
            if (s.moving) add(stateCell, moving(s.moving));
            return add(el("tr", "server" + (active ? " active" : "")), name, cell("mono", s.address), stateCell,
              add(el("td"), el("span", "tag", s.backup ? "backup" : "primary")),
              cell("num", num(s.active_connections)), cell("num", num(s.total_connections)), check(s.last_check),
              actions(b, s));
          }
          function backend(b) {
            var card = el("section", "card backend"), h2 = el("h2"), title = el("span", "", "Backend ");
            var sessions = b.servers.reduce(function (n, s) { return n + s.active_connections; }, 0);
            var active = el("span", "sub", "active server ");
            add(active, b.active_server ? el("b", "", b.active_server) : document.createTextNode("\u2014"));
            add(h2, add(title, el("span", "name", b.name)), active, el("span", "sub", num(sessions) + " active sessions"));
            if (b.moving) add(h2, add(el("span", "sub"), moving(b.moving)));
            if (b.waiting_to_move > 0) add(h2, el("span", "sub", num(b.waiting_to_move) + " waiting to move"));
            add(h2, button("rebalance", "Rebalance", { backend: b.name }));
            var t = table(["Server", "Address", "State", "Role", "~Active", "~Total", "Last check", "Actions"]);
            b.servers.forEach(function (s) { add(t[1], server(s, b.name, s.name === b.active_server)); });
            return add(card, h2, t[0]);
          }
          function render(r) {
            var main = document.getElementById("status");
            var parts = [summary(r), listeners(r.listeners)].concat(r.backends.map(backend));
            while (main.firstChild) main.removeChild(main.firstChild);
            parts.forEach(function (p) { main.appendChild(p); });
          }
          function live(ok, text) {
            document.getElementById("live").className = "live " + (ok ? "ok" : "stale");
            document.getElementById("live-text").textContent = text;
          }
          function tick() {
            var done = false;
            var timer = setTimeout(function () { if (!done) { done = true; live(false, "no answer from /status"); setTimeout(tick, 2000); } }, 1800);
            fetch("/status", { cache: "no-store" })
              .then(function (res) { if (!res.ok) throw new Error("HTTP " + res.status); return res.json(); })
              .then(function (r) { render(r); live(true, "live \u00b7 updated " + new Date().toLocaleTimeString()); },
                function (e) { live(false, "stale \u00b7 /status failed: " + e.message); })
              .then(function () { if (!done) { done = true; clearTimeout(timer); setTimeout(tick, 2000); } });
          }
          /** One fetch of /status outside the 2 s loop: the state right after an action. */
          function refreshStatus() {
            fetch("/status", { cache: "no-store" })
              .then(function (res) { return res.ok ? res.json() : null; })
              .then(function (r) { if (r) render(r); }, function () {});
          }
          tick();

        """#
}
