import Hummingbird

extension AdminServer {
    /// The routes the HTML page needs besides `/status` and the action endpoints: `GET /status/history`,
    /// the last 15 minutes of totals its charts draw (a plain read, open like `/status`).
    static func addPageRoutes(to router: Router<AdminRequestContext>, history: StatusHistory) {
        router.get("/status/history") { _, _ -> Response in
            json(history.document)
        }
    }
}
