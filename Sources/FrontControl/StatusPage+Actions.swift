extension StatusPage {
    /// The server actions: the `data-action` a button carries and its label, for the server-rendered
    /// buttons and the script's (`SERVER_ACTIONS`). `evacuate` posts to `/backends/{b}/servers/{s}/evacuate`,
    /// the others to `…/state` with that state.
    static let serverActions = [("evacuate", "Evacuate"), ("drain", "Drain"), ("maint", "Maint"), ("ready", "Ready")]

    /// The actions cell of one server row: a button per action, the current state's (drain, maint)
    /// disabled. Names are escaped into `data-` attributes; the script reads them back as text.
    static func actions(backend: String, server: String, state: String) -> String {
        let target = "data-backend=\"\(escape(backend))\" data-server=\"\(escape(server))\""
        let buttons = serverActions.map { action, label in
            let current = action == state ? " disabled" : ""
            return "<button type=\"button\" class=\"act act-\(action)\" data-action=\"\(action)\" \(target)\(current)>"
                + "\(label)</button>"
        }
        return "<td class=\"actions\">\(buttons.joined())</td>"
    }

    /// The rebalance button in a backend card's heading.
    static func rebalanceButton(backend: String) -> String {
        "<button type=\"button\" class=\"act act-rebalance\" data-action=\"rebalance\" "
            + "data-backend=\"\(escape(backend))\">Rebalance</button>"
    }

    /// A backend-wide move under way and the sessions waiting in all of the backend's moves; nothing
    /// when neither.
    static func backendMoving(_ backend: StatusReport.Backend) -> String {
        var parts = ""
        if let moving = backend.moving { parts += "<span class=\"sub\">\(self.moving(moving))</span>" }
        if let waiting = backend.waiting_to_move, waiting > 0 {
            parts += "<span class=\"sub\">\(grouped(waiting)) waiting to move</span>"
        }
        return parts
    }

    /// A move's progress: a bar (moved of moved + remaining) and `cause: N left, R/s, eta T`; nothing
    /// without a move.
    static func moving(_ moving: StatusReport.Moving?) -> String {
        guard let moving else { return "" }
        let total = max(moving.moved + moving.remaining, 1)
        return "<div class=\"moving\"><progress max=\"\(total)\" value=\"\(min(moving.moved, total))\"></progress> "
            + "<span class=\"muted\">\(escape(movingText(moving)))</span></div>"
    }

    /// `evacuate: 120 left, 50/s, eta 2.4 s` (`all at once` at rate 0); the script writes the same.
    static func movingText(_ moving: StatusReport.Moving) -> String {
        let pace = moving.rate > 0 ? "\(grouped(moving.rate))/s, eta \(eta(moving.eta_seconds))" : "all at once"
        return "\(moving.cause): \(grouped(moving.remaining)) left, \(pace)"
    }

    /// `2.4 s` under a minute, else `3 min 20 s`.
    static func eta(_ seconds: Double) -> String {
        guard seconds >= 60, seconds < 1e9 else { return "\((max(seconds, 0) * 10).rounded() / 10) s" }
        let whole = Int(seconds.rounded())
        return "\(whole / 60) min \(whole % 60) s"
    }
}
