/// A hash that is the same in every process and on every run (unlike `Hasher`, which is seeded per
/// process). Several fronts must agree on where a client id lands with no shared state, so routing
/// hashes use this and nothing else.
public enum StableHash {
    /// FNV-1a over the bytes, 64 bits.
    public static func fnv1a<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// FNV-1a over a string's UTF-8 bytes.
    public static func of(_ string: String) -> UInt64 {
        var copy = string
        return copy.withUTF8 { fnv1a($0) }
    }

    /// SplitMix64's finalizer: spreads every input bit over the output so that close inputs
    /// (ids `dev-1`, `dev-2`) give unrelated scores.
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
