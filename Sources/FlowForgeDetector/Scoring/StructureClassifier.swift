// FlowForge — recognises structured output (tables, fenced code, heterogeneous JSON records).
// SPDX-License-Identifier: Apache-2.0

/// Decides, line by line, whether output is *structured*: content whose repeated shape is expected
/// and must not be mistaken for a runaway loop. A line is structured when it is
/// - a table row or rule: it contains at least two column separators (`|` or `│`), or consists only
///   of rule characters (`-`, `=`, `+`, `|`, `:`, spaces, box-drawing `─┼┬┴├┤`) with at least three dashes;
/// - a code fence (a line starting with three backticks) or any line between an opening and closing fence;
/// - a one-line JSON object (`{…}`) whose top-level key set differs from that of the previous JSON
///   object line. JSON lines that keep the same key set are *not* structured: a loop logging the same
///   JSON event is still a loop.
///
/// The classifier is stateful (fence state, previous key set), so feed it every line in order.
public struct StructureClassifier: Sendable {
    private var insideFence = false
    private var previousKeys: [String]?

    /// A classifier outside any fence, with no JSON history.
    public init() {}

    /// Classifies the raw (un-normalized) `line` and advances the classifier's state.
    public mutating func isStructured(_ line: String) -> Bool {
        let bytes = Array(line.utf8)
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 || bytes[end - 1] == 0x0D { end -= 1 }
        if end - start >= 3, bytes[start] == 0x60, bytes[start + 1] == 0x60, bytes[start + 2] == 0x60 {
            insideFence.toggle()
            return true
        }
        if insideFence { return true }
        if Self.isTableLine(line) { return true }
        if end - start >= 2, bytes[start] == 0x7B, bytes[end - 1] == 0x7D,
           let keys = Self.topLevelKeys(bytes[start..<end]) {
            defer { previousKeys = keys }
            if let previous = previousKeys { return previous != keys }
            return false
        }
        return false
    }

    /// Forgets fence and JSON state.
    public mutating func reset() {
        insideFence = false
        previousKeys = nil
    }

    static func isTableLine(_ line: String) -> Bool {
        var separators = 0
        var dashes = 0
        var onlyRule = true
        var nonSpace = 0
        for scalar in line.unicodeScalars {
            switch scalar {
            case "|", "\u{2502}", "\u{2503}", "\u{2551}": separators += 1; nonSpace += 1
            case "-", "=", "\u{2500}", "\u{2501}", "\u{2550}": dashes += 1; nonSpace += 1
            case "+", ":", "\u{253C}", "\u{252C}", "\u{2534}", "\u{251C}", "\u{2524}",
                 "\u{250C}", "\u{2510}", "\u{2514}", "\u{2518}": nonSpace += 1
            case " ", "\t", "\r": break
            default: onlyRule = false
            }
        }
        if separators >= 2 { return true }
        return onlyRule && dashes >= 3 && nonSpace > 0
    }

    /// Sorted, de-duplicated top-level keys of a one-line JSON object, or nil if it does not parse
    /// as an object at the top level (nested values are skipped, not validated).
    static func topLevelKeys(_ bytes: ArraySlice<UInt8>) -> [String]? {
        var keys: Set<String> = []
        var depth = 0
        var i = bytes.startIndex
        var expectKey = false
        while i < bytes.endIndex {
            let b = bytes[i]
            switch b {
            case 0x7B, 0x5B: // { [
                depth += 1
                expectKey = b == 0x7B && depth == 1
            case 0x7D, 0x5D: // } ]
                depth -= 1
                if depth < 0 { return nil }
            case 0x2C: // ,
                if depth == 1 { expectKey = true }
            case 0x22: // "
                var j = i + 1
                var text: [UInt8] = []
                while j < bytes.endIndex, bytes[j] != 0x22 {
                    if bytes[j] == 0x5C { j += 1 }
                    if j < bytes.endIndex { text.append(bytes[j]) }
                    j += 1
                }
                guard j < bytes.endIndex else { return nil }
                if depth == 1 && expectKey {
                    var k = j + 1
                    while k < bytes.endIndex, bytes[k] == 0x20 || bytes[k] == 0x09 { k += 1 }
                    guard k < bytes.endIndex, bytes[k] == 0x3A else { return nil }
                    keys.insert(String(decoding: text, as: UTF8.self))
                    expectKey = false
                }
                i = j
            default:
                break
            }
            i += 1
        }
        return depth == 0 && !keys.isEmpty ? keys.sorted() : nil
    }
}
