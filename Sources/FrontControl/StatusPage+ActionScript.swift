extension StatusPage {
    /// The actions part of the inline script: `api` sends a request to the admin plane as JSON, and
    /// when it answers 401 shows the token form, keeps the token the operator types in the tab's
    /// `sessionStorage` and sends the request again with `Authorization: Bearer`. One click listener
    /// serves every `button[data-action]` (server-rendered or rebuilt), asks before the disruptive ones
    /// (evacuate, maint, close) and shows the answer in the notice line for a few seconds.
    static let actionScript = #"""
          var TOKEN_KEY = "brokerfront.admin-token", waiting = [], noticeTimer = null;
          function token() {
            try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
          }
          function askToken(retry, fail, text) {
            waiting.push({ retry: retry, fail: fail });
            var form = document.getElementById("token-form");
            document.getElementById("token-text").textContent = text;
            form.hidden = false;
            document.getElementById("token-input").focus();
          }
          function answerToken(given) {
            var list = waiting;
            waiting = [];
            document.getElementById("token-form").hidden = true;
            if (given) {
              try { sessionStorage.setItem(TOKEN_KEY, given); } catch (e) {}
            }
            list.forEach(function (w) { if (given) w.retry(); else w.fail(new Error("no admin token given")); });
          }
          document.getElementById("token-form").addEventListener("submit", function (e) {
            e.preventDefault();
            var input = document.getElementById("token-input"), given = input.value.trim();
            input.value = "";
            answerToken(given);
          });
          document.getElementById("token-cancel").addEventListener("click", function () { answerToken(""); });
          /** `method` on `path` with `body` (JSON) and the token once one is known; resolves with the JSON answer. */
          function api(method, path, body) {
            return new Promise(function (resolve, reject) {
              function attempt() {
                var headers = {}, sent = token();
                if (method !== "GET") headers["Content-Type"] = "application/json";
                if (sent) headers.Authorization = "Bearer " + sent;
                var init = { method: method, headers: headers, cache: "no-store" };
                if (body !== undefined) init.body = JSON.stringify(body);
                fetch(path, init).then(function (res) {
                  if (res.status === 401) {
                    askToken(attempt, reject, sent ? "That token was refused; the admin token:" : "This admin plane needs its token:");
                    return;
                  }
                  return res.text().then(function (text) {
                    var data = null;
                    try { data = JSON.parse(text); } catch (e) {}
                    if (res.ok) resolve(data || {});
                    else reject(new Error((data && data.error) || "HTTP " + res.status));
                  });
                }).catch(reject);
              }
              attempt();
            });
          }
          function notify(text, bad) {
            var box = document.getElementById("notice");
            box.textContent = text;
            box.className = "notice" + (bad ? " bad" : "");
            box.hidden = false;
            clearTimeout(noticeTimer);
            noticeTimer = setTimeout(function () { box.hidden = true; }, 6000);
          }
          function part(name) { return encodeURIComponent(name); }
          /** The request a button sends: [method, path, body, what it is called, question to confirm]. */
          function request(d) {
            var server = "/backends/" + part(d.backend) + "/servers/" + part(d.server);
            switch (d.action) {
              case "evacuate":
                return ["POST", server + "/evacuate", undefined, "Evacuate " + d.server,
                  "Move every session off " + d.server + " (" + d.backend + ") to the other servers?"];
              case "drain": case "ready":
                return ["POST", server + "/state", { state: d.action }, d.action + " " + d.server];
              case "maint":
                return ["POST", server + "/state", { state: "maint" }, "maint " + d.server,
                  "Put " + d.server + " (" + d.backend + ") in maintenance? Its sessions move to the other servers."];
              case "rebalance":
                return ["POST", "/backends/" + part(d.backend) + "/rebalance", undefined, "Rebalance " + d.backend];
              case "close":
                return ["DELETE", "/sessions/" + part(d.client), undefined, "Close " + d.client,
                  "Close the sessions of client " + d.client + "?"];
              case "move":
                return ["POST", "/sessions/" + part(d.client) + "/move", undefined, "Move " + d.client];
            }
            return null;
          }
          function describe(action, data) {
            if (action === "evacuate") {
              if (!data.active_connections) return "no session to move";
              var pace = data.moving && data.moving.rate > 0 ? " at " + num(data.moving.rate) + "/s" : "";
              return "moving " + num(data.active_connections) + " sessions" + pace;
            }
            if (action === "close") return "closed " + num(data.closed);
            if (action === "move") return "moving " + num(data.moved);
            if (action === "rebalance") return "rebalancing";
            return "state now " + data.state;
          }
          document.addEventListener("click", function (e) {
            var b = e.target && e.target.closest ? e.target.closest("button[data-action]") : null;
            var r = b ? request(b.dataset) : null;
            if (!r || (r[4] && !window.confirm(r[4]))) return;
            var action = b.dataset.action;
            b.disabled = true;
            api(r[0], r[1], r[2])
              .then(function (data) { notify(r[3] + ": " + describe(action, data)); },
                function (err) { notify(r[3] + " failed: " + err.message, true); })
              .then(function () {
                b.disabled = false;
                refreshStatus();
                if (action === "close" || action === "move") loadSessions();
              });
          });

        """#
}
