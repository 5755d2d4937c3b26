/// The share a server gets while it ramps up after coming up (or being added): its weight scales
/// linearly from a small floor to full over `slow_start`, like HAProxy's `slowstart`, so a broker
/// that returns is not handed every reconnecting client at once.
public enum SlowStart {
    /// Smallest fraction of its weight a ramping server gets (so it is never skipped entirely).
    public static let floor = 1.0 / 64

    /// The weight of a server of weight `weight` that came up at `upSince`, at `now`.
    public static func effectiveWeight(
        _ weight: Int, upSince: MonotonicTime?, window: Duration, now: MonotonicTime
    ) -> Double {
        let full = Double(max(weight, 0))
        guard window > .zero, let upSince else { return full }
        let progress = now.since(upSince).secondsDouble / window.secondsDouble
        return progress >= 1 ? full : full * max(progress, floor)
    }
}
