#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sticky routing by weighted rendezvous hashing (highest random weight).
///
/// Every (key, server) pair gets a score from a stable hash; the key goes to the highest score
/// among the candidates. A server leaving the candidate set moves only the keys it held, a server
/// joining takes only the keys it now wins, and every process computes the same answer with no
/// shared state. Weights scale the score as `weight / -ln(u)`, which gives each server a share
/// proportional to its weight. O(servers) per pick, with no ring to rebuild on a state change.
public struct ConsistentHashBalancer: Balancer {
    /// Which field of the routing key is hashed.
    public enum Keying: Sendable {
        /// The MQTT client id; an empty or absent id falls back to the client certificate's CN, then the source IP.
        case clientID
        /// The MQTT user name; absent falls back to the client id, then the source IP.
        case username
        /// The client's IP address.
        case sourceIP
    }

    public let keying: Keying

    public init(keying: Keying) {
        self.keying = keying
    }

    /// The string actually hashed for `key`, after fallbacks.
    public func hashInput(for key: RoutingKey) -> String {
        switch keying {
        case .sourceIP:
            return "ip:" + key.sourceIP
        case .clientID:
            if let id = key.clientID, !id.isEmpty { return "id:" + id }
            if let cn = key.certificateCN, !cn.isEmpty { return "cn:" + cn }
            return "ip:" + key.sourceIP
        case .username:
            if let user = key.username, !user.isEmpty { return "user:" + user }
            if let id = key.clientID, !id.isEmpty { return "id:" + id }
            return "ip:" + key.sourceIP
        }
    }

    public func pick(from candidates: [ServerRuntime], weights: [Double], key: RoutingKey) -> ServerRuntime? {
        let keyHash = StableHash.of(hashInput(for: key))
        let anyWeight = weights.contains { $0 > 0 }
        var best: ServerRuntime?
        var bestScore = -Double.infinity
        for (server, configured) in zip(candidates, weights) {
            let weight = anyWeight ? configured : 1
            guard weight > 0 else { continue }
            let score = Self.score(keyHash: keyHash, serverSeed: server.hashSeed, weight: weight)
            if score > bestScore {
                bestScore = score
                best = server
            }
        }
        return best
    }

    /// `weight / -ln(u)` with `u` uniform in (0, 1) drawn from the pair's hash.
    static func score(keyHash: UInt64, serverSeed: UInt64, weight: Double) -> Double {
        let bits = StableHash.mix(keyHash ^ serverSeed)
        // 53 high bits → (0, 1): add one half step so that neither 0 nor 1 can occur.
        let unit = (Double(bits >> 11) + 0.5) / 9_007_199_254_740_992.0
        return weight / -log(unit)
    }
}
