/// "Did you mean …?" hints for misspelled keys, enum values and names.
///
/// Uses the edit distance with adjacent transpositions (`tsl` → `tls` is one edit); a candidate is offered
/// when it is at most two edits away (one for words of three letters or fewer, so `foo` does not suggest
/// `log`), or when the written word is a prefix of it (`warn` → `warning`). Pure; safe from any thread.
enum Suggestion {
    /// The closest candidate within two edits (or that starts with `word`), first in `candidates` on a tie.
    static func closest(to word: String, among candidates: [String]) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates where candidate != word {
            let distance = editDistance(word.lowercased(), candidate.lowercased())
            let allowed = word.count <= 3 ? 1 : 2
            guard distance <= allowed || (word.count >= 3 && candidate.hasPrefix(word)) else { continue }
            if best.map({ distance < $0.distance }) ?? true {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// `; did you mean `x`?` or the empty string.
    static func hint(for word: String, among candidates: [String]) -> String {
        closest(to: word, among: candidates).map { "; did you mean `\($0)`?" } ?? ""
    }

    /// Optimal-string-alignment distance over characters: insertions, deletions, substitutions and swaps
    /// of two adjacent characters each cost one.
    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let left = Array(lhs)
        let right = Array(rhs)
        guard !left.isEmpty else { return right.count }
        guard !right.isEmpty else { return left.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: right.count + 1), count: left.count + 1)
        for i in 0...left.count { table[i][0] = i }
        for j in 0...right.count { table[0][j] = j }
        for i in 1...left.count {
            for j in 1...right.count {
                let cost = left[i - 1] == right[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, left[i - 1] == right[j - 2], left[i - 2] == right[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[left.count][right.count]
    }
}
