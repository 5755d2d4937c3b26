import FrontProxy

/// The body of `GET /healthz`: `serving` (200) while the listeners accept, `draining` (503) from the
/// moment a shutdown began, `starting` (503) before the listeners are bound.
struct Healthz: Encodable, Sendable {
    /// `serving`, `draining` or `starting`.
    var status: String

    /// Whether the answer is 200.
    var serving: Bool { status == "serving" }

    init(proxy: FrontProxy) {
        if proxy.isStopping {
            status = "draining"
        } else if proxy.boundListeners.isEmpty {
            status = "starting"
        } else {
            status = "serving"
        }
    }
}
