// FlowForge — recognises structured output (tables, fenced code).
// SPDX-License-Identifier: Apache-2.0

/// Decides, line by line, whether output is *structured*: content whose repeated shape is expected
/// and must not be mistaken for a runaway loop. A line is structured when it is
/// - a table row or rule: it contains at least two column separators (`|` or `│`), or consists only
///   of rule characters (`-`, `=`, `+`, `|`, `:`, spaces, box-drawing `─┼┬┴├┤`) with at least three dashes;
/// - a code fence (a line starting with three backticks) or any line between an opening and closing fence.
///
/// JSON records are not exempt: they are compared field by field (`JSONRecord`), so a JSON agent loop is as
/// visible as a text one. The classifier is stateful (fence state), so feed it every line in order.
public struct StructureClassifier: Sendable {
    private var insideFence = false

    /// A classifier outside any fence, with no JSON history.
    public init() {}

    /// Classifies the raw (un-normalized) `line` and advances the classifier's state.
    public mutating func isStructured(_ line: String) -> Bool {
        // A fence is three backticks after optional blanks; no copy of the line is needed to see that.
        let body = line.utf8.drop(while: { $0 == 0x20 || $0 == 0x09 })
        if body.starts(with: [0x60, 0x60, 0x60]) {
            insideFence.toggle()
            return true
        }
        if insideFence { return true }
        return Self.isTableLine(line)
    }

    /// Forgets the fence state.
    public mutating func reset() {
        insideFence = false
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
}
