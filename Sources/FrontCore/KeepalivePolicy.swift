import FrontConfig

/// How long a session may stay silent before the front closes it.
///
/// MQTT 3.1.1 §3.1.2.10 / MQTT 5.0 §3.1.2.10: a server disconnects a client that sends nothing for
/// one and a half times its Keep Alive. The front applies the same rule with the listener's factor,
/// clamped so a client cannot ask for seconds (a flood of timers) or for days (a leak of dead sessions).
public enum KeepalivePolicy {
    /// The listener settings the rule reads, apart from the rest of its configuration (a session
    /// keeps these few values, not the whole listener).
    public struct Settings: Sendable, Equatable {
        public var factor: Double
        public var minimum: Duration
        public var maximum: Duration
        /// `idle_timeout`: for Keep Alive 0 and for `tcp` listeners; zero means never.
        public var idleTimeout: Duration

        public init(factor: Double, minimum: Duration, maximum: Duration, idleTimeout: Duration) {
            self.factor = factor
            self.minimum = minimum
            self.maximum = maximum
            self.idleTimeout = idleTimeout
        }

        /// The settings of `listener`.
        public init(listener: ListenerConfig) {
            self.init(
                factor: listener.keepaliveFactor, minimum: listener.keepaliveMin, maximum: listener.keepaliveMax,
                idleTimeout: listener.idleTimeout)
        }
    }

    /// The idle deadline for an MQTT client announcing `keepAlive` seconds; nil means never.
    /// Keep Alive 0 means the client promises nothing, so the listener's `idle_timeout` applies.
    public static func idleTimeout(keepAlive: UInt16, listener: ListenerConfig) -> Duration? {
        idleTimeout(keepAlive: keepAlive, settings: Settings(listener: listener))
    }

    /// ``idleTimeout(keepAlive:listener:)`` from the listener's keepalive ``Settings``.
    public static func idleTimeout(keepAlive: UInt16, settings: Settings) -> Duration? {
        guard keepAlive > 0 else {
            return settings.idleTimeout > .zero ? settings.idleTimeout : nil
        }
        // Clamped as seconds first: a large `keepalive_factor` (any finite number is valid) would not
        // fit a Duration.
        let seconds = Double(keepAlive) * settings.factor
        guard seconds < settings.maximum.secondsDouble else { return settings.maximum }
        return max(Duration.seconds(seconds), settings.minimum)
    }

    /// The idle deadline of a plain `tcp` session; nil means never.
    public static func idleTimeout(tcpListener listener: ListenerConfig) -> Duration? {
        listener.idleTimeout > .zero ? listener.idleTimeout : nil
    }
}
