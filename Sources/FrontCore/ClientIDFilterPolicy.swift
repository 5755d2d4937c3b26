import FrontConfig

/// Decides whether a client may connect with the client identifier its CONNECT carries (MQTT 5.0 §3.1.3.1),
/// from a listener's `client_ids` allow and deny globs.
///
/// A client id is permitted when it matches at least one allow pattern and no deny pattern: deny wins. An
/// empty allow list therefore permits nothing; the default, `["*"]`, permits every id, including the empty
/// one a 5.0 client may send. Patterns are compiled once, at construction; ``permits(_:)`` is pure and the
/// value is immutable, so one policy is shared by every event loop.
///
/// Glob syntax, matched on Unicode scalars (not bytes, not grapheme clusters) and case-sensitively, as MQTT
/// compares client ids: `*` any run of scalars, empty included; `?` exactly one scalar; `[abc]` one of the
/// listed scalars, `[a-z]` a range by scalar value, `[!x]` any scalar but those listed (a `]` right after `[`
/// or `[!` is a member, and so is a `-` first or last); `\c` the scalar `c` itself, outside or inside a class.
/// A `[` with no closing `]` and a trailing `\` stand for themselves. Matching uses the two-pointer algorithm
/// that remembers only the last `*`, so it takes at most (pattern length + 1) × (id length + 1) steps: no
/// input can make it backtrack exponentially.
public struct ClientIDFilterPolicy: Sendable {
    private let allow: [Glob]
    private let deny: [Glob]

    /// Compiles the patterns; every string is a valid pattern (see the type's documentation).
    public init(allow: [String] = ["*"], deny: [String] = []) {
        self.allow = allow.map(Glob.init)
        self.deny = deny.map(Glob.init)
    }

    /// The policy of a listener's `client_ids` section.
    public init(_ filter: ClientIDFilter) {
        self.init(allow: filter.allow, deny: filter.deny)
    }

    /// Whether `clientID` may connect: it matches an allow pattern and no deny pattern.
    public func permits(_ clientID: String) -> Bool {
        let scalars = Array(clientID.unicodeScalars)
        var steps = 0
        if deny.contains(where: { $0.matches(scalars, steps: &steps) }) { return false }
        return allow.contains { $0.matches(scalars, steps: &steps) }
    }
}

extension ClientIDFilterPolicy {
    /// One compiled glob pattern.
    struct Glob: Sendable {
        /// What one pattern position matches.
        enum Token: Sendable, Equatable {
            /// Exactly this scalar (written plainly or escaped with `\`).
            case literal(Unicode.Scalar)
            /// `?`: any one scalar.
            case any
            /// `*`: any run of scalars; consecutive stars are compiled into one.
            case star
            /// `[...]`: one scalar in (or, when `negated`, not in) the ranges; a single member is a 1-wide range.
            case set([ClosedRange<Unicode.Scalar>], negated: Bool)
        }

        /// The pattern, compiled.
        let tokens: [Token]

        /// Compiles `pattern`; see ``ClientIDFilterPolicy`` for the syntax.
        init(_ pattern: String) {
            let scalars = Array(pattern.unicodeScalars)
            var tokens: [Token] = []
            var index = 0
            while index < scalars.count {
                let scalar = scalars[index]
                index += 1
                switch scalar {
                case "*":
                    if tokens.last != .star { tokens.append(.star) }
                case "?":
                    tokens.append(.any)
                case "\\" where index < scalars.count:
                    tokens.append(.literal(scalars[index]))
                    index += 1
                case "[":
                    if let (set, end) = Self.bracket(scalars, from: index) {
                        tokens.append(set)
                        index = end
                    } else {
                        tokens.append(.literal("["))
                    }
                default:
                    tokens.append(.literal(scalar))
                }
            }
            self.tokens = tokens
        }

        /// Reads a class whose `[` is just before `start`; returns it and the index after its `]`, or nil
        /// when no `]` closes it.
        private static func bracket(_ scalars: [Unicode.Scalar], from start: Int) -> (Token, Int)? {
            var index = start
            let negated = index < scalars.count && scalars[index] == "!"
            if negated { index += 1 }
            var ranges: [ClosedRange<Unicode.Scalar>] = []
            let first = index
            while index < scalars.count {
                if scalars[index] == "]" && index > first { return (.set(ranges, negated: negated), index + 1) }
                guard let (low, afterLow) = member(scalars, at: index) else { return nil }
                index = afterLow
                // `a-z`, unless the `-` is the class's last member (`[a-]`).
                if index + 1 < scalars.count && scalars[index] == "-" && scalars[index + 1] != "]",
                    let (high, afterHigh) = member(scalars, at: index + 1)
                {
                    // A reversed range such as `z-a` matches nothing, as in POSIX shells.
                    if low <= high { ranges.append(low...high) }
                    index = afterHigh
                } else {
                    ranges.append(low...low)
                }
            }
            return nil
        }

        /// One class member at `index`, `\` escapes resolved; nil when a trailing `\` leaves nothing to escape.
        private static func member(_ scalars: [Unicode.Scalar], at index: Int) -> (Unicode.Scalar, Int)? {
            guard scalars[index] == "\\" else { return (scalars[index], index + 1) }
            return index + 1 < scalars.count ? (scalars[index + 1], index + 2) : nil
        }

        /// Whether the whole of `text` matches; `steps` grows by one per comparison, so tests can show the
        /// work is bounded by (tokens + 1) × (text + 1).
        func matches(_ text: [Unicode.Scalar], steps: inout Int) -> Bool {
            var position = 0  // in text
            var token = 0  // in tokens
            var lastStar: Int?  // token index of the most recent `*`
            var starResume = 0  // text position that `*` currently stops before
            while position < text.count {
                steps += 1
                if token < tokens.count, tokens[token] == .star {
                    lastStar = token
                    starResume = position
                    token += 1
                } else if token < tokens.count, Self.token(tokens[token], matches: text[position]) {
                    token += 1
                    position += 1
                } else if let star = lastStar {
                    // Let the last `*` swallow one more scalar and retry from just after it. Earlier stars never
                    // need revisiting: the last one can absorb anything they could.
                    token = star + 1
                    starResume += 1
                    position = starResume
                } else {
                    return false
                }
            }
            return tokens[token...].allSatisfy { $0 == .star }
        }

        /// Whether a non-star token accepts `scalar`.
        private static func token(_ token: Token, matches scalar: Unicode.Scalar) -> Bool {
            switch token {
            case .literal(let expected): scalar == expected
            case .any: true
            case .star: false
            case .set(let ranges, let negated): ranges.contains { $0.contains(scalar) } != negated
            }
        }
    }
}
