import FrontConfig

/// How long a session may stay silent before the front closes it.
///
/// MQTT 3.1.1 §3.1.2.10 / MQTT 5.0 §3.1.2.10: a server disconnects a client that sends nothing for
/// one and a half times its Keep Alive. The front applies the same rule with the listener's factor,
/// clamped so a client cannot ask for seconds (a flood of timers) or for days (a leak of dead sessions).
public enum KeepalivePolicy {
    /// The idle deadline for an MQTT client announcing `keepAlive` seconds; nil means never.
    /// Keep Alive 0 means the client promises nothing, so the listener's `idle_timeout` applies.
    public static func idleTimeout(keepAlive: UInt16, listener: ListenerConfig) -> Duration? {
        guard keepAlive > 0 else {
            return listener.idleTimeout > .zero ? listener.idleTimeout : nil
        }
        // Clamped as seconds first: a large `keepalive_factor` (any finite number is valid) would not
        // fit a Duration.
        let seconds = Double(keepAlive) * listener.keepaliveFactor
        guard seconds < listener.keepaliveMax.secondsDouble else { return listener.keepaliveMax }
        return max(Duration.seconds(seconds), listener.keepaliveMin)
    }

    /// The idle deadline of a plain `tcp` session; nil means never.
    public static func idleTimeout(tcpListener listener: ListenerConfig) -> Duration? {
        listener.idleTimeout > .zero ? listener.idleTimeout : nil
    }
}
