// FlowForge — cutting text to a byte budget without splitting a character.
// SPDX-License-Identifier: Apache-2.0

extension String {
    /// The longest prefix of at most `max` UTF-8 bytes that ends on a character boundary.
    func utf8Prefix(_ max: Int) -> String {
        if utf8.count <= max { return self }
        var out = ""
        var used = 0
        for ch in self {
            let n = ch.utf8.count
            if used + n > max { break }
            out.append(ch)
            used += n
        }
        return out
    }
}
