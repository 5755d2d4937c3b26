/// Why one scalar value in the configuration was refused.
///
/// Thrown by the value parsers (``DurationParser``, ``SizeParser``, ``EndpointParser``); the loader turns it
/// into a ``ConfigIssue`` at the value's line and column. The message names the bad value and says what
/// would be accepted, so it reads well after `FILE:LINE:COL: PATH: `.
public struct ConfigValueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One line, no trailing period, e.g. "`30` has no unit; durations need a unit, e.g. 5s".
    public var message: String

    /// Wraps a message that already names the bad value.
    public init(_ message: String) {
        self.message = message
    }

    /// The message itself.
    public var description: String { message }
}
