import FrontConfig
import Testing

@testable import FrontCore

@Suite("Client id filter policy")
struct ClientIDFilterPolicyTests {
    /// Whether `pattern` alone, as the only allow pattern, matches `id`.
    static func glob(_ pattern: String, _ id: String) -> Bool {
        ClientIDFilterPolicy(allow: [pattern]).permits(id)
    }

    static let matching: [(String, String)] = [
        ("*", ""), ("*", "anything"), ("sensor-*", "sensor-"), ("sensor-*", "sensor-42"), ("*-gw", "north-gw"),
        ("a*b*c", "abc"), ("a*b*c", "aXXbYYc"), ("a*b*c", "abcbc"), ("**", "x"), ("a**b", "ab"),
        ("?", "x"), ("??", "xy"), ("dev-?", "dev-7"), ("*?", "x"),
        ("[abc]", "b"), ("[a-z]x", "qx"), ("[!x]", "y"), ("[!a-c]", "d"), ("id[0-9][0-9]", "id42"),
        ("[]]", "]"), ("[!]]", "a"), ("[a-]", "-"), ("[-a]", "-"), ("[\\]]", "]"), ("[\\!]", "!"),
        ("\\*", "*"), ("\\?", "?"), ("\\[x]", "[x]"), ("a\\\\b", "a\\b"), ("trail\\", "trail\\"),
        ("[abc", "[abc"), ("[", "["), ("[]", "[]"),
        // Unicode scalars: `?` is one scalar, classes take non-ASCII members and ranges.
        ("caf?", "café"), ("?", "☃"), ("[α-ω]*", "λx"), ("*😀", "smile😀"),
    ]

    @Test("patterns that match", arguments: matching)
    func matches(pattern: String, id: String) {
        #expect(Self.glob(pattern, id), "\(pattern) should match \(id)")
    }

    static let notMatching: [(String, String)] = [
        ("sensor-*", "Sensor-1"), ("sensor-*", "sensor"), ("*-gw", "north-gw2"), ("a*b*c", "acb"), ("a*b*c", "abcd"),
        ("?", ""), ("?", "xy"), ("??", "x"), ("dev-?", "dev-10"),
        ("[abc]", "d"), ("[abc]", ""), ("[a-z]", "A"), ("[!x]", "x"), ("[!a-c]", "b"), ("[z-a]", "m"),
        ("\\*", "x"), ("\\?", "x"), ("[abc", "a"), ("exact", "exact2"), ("exact", "exac"), ("", "x"),
        // "e" + U+0301 is two scalars: `?` does not cover both.
        ("caf?", "cafe\u{301}"),
    ]

    @Test("patterns that do not match", arguments: notMatching)
    func doesNotMatch(pattern: String, id: String) {
        #expect(!Self.glob(pattern, id), "\(pattern) should not match \(id)")
    }

    @Test("deny wins over allow; an id must match some allow pattern")
    func denyWins() {
        let policy = ClientIDFilterPolicy(allow: ["sensor-*", "gw-*"], deny: ["sensor-bad", "*-test"])
        #expect(policy.permits("sensor-1"))
        #expect(policy.permits("gw-north"))
        #expect(!policy.permits("sensor-bad"))
        #expect(!policy.permits("gw-test"))
        #expect(!policy.permits("other"))
        #expect(!policy.permits(""))
    }

    @Test("defaults allow every id, the empty one included; an empty allow list permits nothing")
    func defaults() {
        #expect(ClientIDFilterPolicy().permits(""))
        #expect(ClientIDFilterPolicy().permits("any id at all"))
        #expect(ClientIDFilterPolicy(ClientIDFilter()).permits("x"))
        #expect(!ClientIDFilterPolicy(allow: []).permits("x"))
        #expect(!ClientIDFilterPolicy(deny: ["*"]).permits("x"))
    }

    @Test("built from the listener's client_ids section")
    func fromConfig() {
        let policy = ClientIDFilterPolicy(ClientIDFilter(allow: ["sensor-*", "gw-*"], deny: ["sensor-bad"]))
        #expect(policy.permits("gw-1"))
        #expect(!policy.permits("sensor-bad"))
        #expect(!policy.permits("printer"))
    }

    @Test("consecutive stars compile to one; escapes and classes compile as written")
    func compilation() {
        typealias Glob = ClientIDFilterPolicy.Glob
        #expect(Glob("a***b").tokens == [.literal("a"), .star, .literal("b")])
        #expect(Glob("\\**").tokens == [.literal("*"), .star])
        #expect(Glob("[!a-c]").tokens == [.set(["a"..."c"], negated: true)])
        #expect(Glob("[]a-]").tokens == [.set(["]"..."]", "a"..."a", "-"..."-"], negated: false)])
        #expect(Glob("[ab").tokens == [.literal("["), .literal("a"), .literal("b")])
        #expect(Glob("[a\\").tokens == [.literal("["), .literal("a"), .literal("\\")])
    }

    @Test("pathological patterns finish in bounded steps: (pattern + 1) × (id + 1) at most")
    func noExponentialBacktracking() {
        let cases: [(String, String)] = [
            ("a*a*a*a*a*a*a*a*b", String(repeating: "a", count: 10_000)),
            ("*a*a*a*a*a*a*a*a*a*a*", String(repeating: "b", count: 10_000)),
            ("*?*?*?*?*?*?*?*?x", String(repeating: "y", count: 5_000)),
            (String(repeating: "*a", count: 100) + "b", String(repeating: "a", count: 65_535)),
        ]
        for (pattern, id) in cases {
            let glob = ClientIDFilterPolicy.Glob(pattern)
            var steps = 0
            #expect(!glob.matches(Array(id.unicodeScalars), steps: &steps))
            let bound = (glob.tokens.count + 1) * (id.unicodeScalars.count + 1)
            #expect(steps <= bound, "\(steps) steps for a \(glob.tokens.count)-token pattern")
            #expect(!ClientIDFilterPolicy(allow: [pattern]).permits(id))
        }
        // The same patterns still match when they should.
        #expect(Self.glob("a*a*a*a*a*a*a*a*b", String(repeating: "a", count: 10_000) + "b"))
    }

    @Test("the matcher agrees with a simple recursive reference on random inputs")
    func agreesWithReference() {
        var state: UInt64 = 0x1D_F11E
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let patternAlphabet: [Unicode.Scalar] = ["a", "b", "*", "?"]
        let idAlphabet: [Unicode.Scalar] = ["a", "b"]
        for _ in 0..<3_000 {
            let pattern = (0..<next(7)).map { _ in patternAlphabet[next(patternAlphabet.count)] }
            let id = (0..<next(9)).map { _ in idAlphabet[next(idAlphabet.count)] }
            var steps = 0
            let fast = ClientIDFilterPolicy.Glob(String(String.UnicodeScalarView(pattern))).matches(id, steps: &steps)
            #expect(fast == Self.reference(pattern[...], id[...]), "\(pattern) vs \(id)")
        }
    }

    /// Exponential-time textbook matcher for `*`, `?` and literals, fine for the tiny inputs above.
    static func reference(_ pattern: ArraySlice<Unicode.Scalar>, _ id: ArraySlice<Unicode.Scalar>) -> Bool {
        guard let first = pattern.first else { return id.isEmpty }
        switch first {
        case "*":
            return reference(pattern.dropFirst(), id) || (!id.isEmpty && reference(pattern, id.dropFirst()))
        case "?":
            return !id.isEmpty && reference(pattern.dropFirst(), id.dropFirst())
        default:
            return id.first == first && reference(pattern.dropFirst(), id.dropFirst())
        }
    }
}
