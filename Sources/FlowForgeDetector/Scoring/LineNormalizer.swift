// FlowForge — reduces an output line to its "shape" so that lines differing only in volatile tokens compare equal.
// SPDX-License-Identifier: Apache-2.0

/// Turns one line of worker output into its *shape*: the line with every volatile token replaced
/// by a fixed mask, so `attempt 1234 request_id=9f3a7c21 retrying after 250ms` and
/// `attempt 1235 request_id=0b44e1aa retrying after 500ms` normalize to the same string.
///
/// Steps, in one left-to-right pass over the UTF-8 bytes:
/// - ANSI/VT escape sequences (colours, cursor moves, OSC titles) are removed;
/// - control characters and runs of whitespace become one space; leading/trailing space is trimmed;
/// - at a word boundary, these tokens are masked (first match wins):
///   UUIDs → `<uuid>`; ISO-8601/RFC 3339 dates and date-times, common-log (`10/Oct/2000:13:55:36 -0700`),
///   syslog (`Oct  3 13:55:36`) and clock (`13:55:36.120`) times → `<ts>`; IPv4 with optional port → `<ip>`;
///   `0x`-prefixed hex and bare hex runs of ≥ 6 characters mixing digits and letters → `<hex>`;
/// - anywhere, durations (`12ms`, `3.5s`, `250µs`, `1h30m`) → `<dur>`, and other digit runs
///   (with `.`-separated groups such as `3.14` or `1.2.3`) → `<num>`;
/// - the result is capped at `maxBytes` bytes (cut on a UTF-8 boundary).
///
/// Input beyond `8 × maxBytes` bytes is not examined. Invalid UTF-8 is decoded lossily.
public struct LineNormalizer: Sendable, Equatable {
    /// Default cap on a normalized line, in bytes.
    public static let defaultMaxBytes = 512

    static let numberMask = Array("<num>".utf8)
    static let hexMask = Array("<hex>".utf8)
    static let uuidMask = Array("<uuid>".utf8)
    static let timeMask = Array("<ts>".utf8)
    static let durationMask = Array("<dur>".utf8)
    static let ipMask = Array("<ip>".utf8)

    /// Maximum length of a normalized line in bytes (at least 16).
    public let maxBytes: Int

    /// A normalizer capping shapes at `maxBytes` bytes.
    public init(maxBytes: Int = LineNormalizer.defaultMaxBytes) {
        self.maxBytes = max(16, maxBytes)
    }

    /// The shape of `line`.
    public func normalize(_ line: String) -> String {
        normalize(utf8: Array(line.utf8))
    }

    /// The shape of a line given as raw bytes (decoded lossily if not valid UTF-8).
    public func normalize(utf8 input: [UInt8]) -> String {
        let s = input.count > maxBytes * 8 ? Array(input[0..<(maxBytes * 8)]) : input
        var out: [UInt8] = []
        out.reserveCapacity(min(s.count, maxBytes) + 8)
        var i = 0
        var pendingSpace = false
        var previousAlnum = false

        func emit(_ bytes: [UInt8]) {
            if pendingSpace && !out.isEmpty { out.append(0x20) }
            pendingSpace = false
            out.append(contentsOf: bytes)
        }

        while i < s.count && out.count < maxBytes {
            let b = s[i]
            if b == 0x1B {
                i = ShapePatterns.escapeEnd(s, i)
                previousAlnum = false
                continue
            }
            if b <= 0x20 || b == 0x7F {
                pendingSpace = true
                previousAlnum = false
                i += 1
                continue
            }
            let atBoundary = !previousAlnum
            if ShapePatterns.isDigit(b) || (atBoundary && ShapePatterns.isAlpha(b)),
               let (end, mask) = token(s, i, atBoundary: atBoundary) {
                emit(mask)
                i = end
                previousAlnum = ShapePatterns.isAlnum(s[end - 1])
                continue
            }
            // Copy a run of letters, or a single other byte (UTF-8 continuation bytes follow their lead).
            var j = i + 1
            if ShapePatterns.isAlpha(b) {
                while j < s.count, ShapePatterns.isAlpha(s[j]) { j += 1 }
            }
            emit(Array(s[i..<j]))
            previousAlnum = ShapePatterns.isAlpha(b)
            i = j
        }
        if out.count > maxBytes {
            var cut = maxBytes
            while cut > 0, out[cut] & 0xC0 == 0x80 { cut -= 1 }
            out.removeSubrange(cut...)
        }
        while out.last == 0x20 { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }

    /// The masked token starting at `i`, if any. Digit runs always produce a token.
    private func token(_ s: [UInt8], _ i: Int, atBoundary: Bool) -> (Int, [UInt8])? {
        if atBoundary {
            if let end = ShapePatterns.uuid(s, i) { return (end, Self.uuidMask) }
            if ShapePatterns.isAlpha(s[i]) {
                if let end = ShapePatterns.syslogTimestamp(s, i) { return (end, Self.timeMask) }
                if let end = ShapePatterns.hex(s, i) { return (end, Self.hexMask) }
                return nil
            }
            if let end = ShapePatterns.isoTimestamp(s, i) { return (end, Self.timeMask) }
            if let end = ShapePatterns.commonLogTimestamp(s, i) { return (end, Self.timeMask) }
            if let end = ShapePatterns.clock(s, i, requireSeconds: true) { return (end, Self.timeMask) }
            if let end = ShapePatterns.ipv4(s, i) { return (end, Self.ipMask) }
            if let end = ShapePatterns.hex(s, i) { return (end, Self.hexMask) }
        }
        guard ShapePatterns.isDigit(s[i]) else { return nil }
        if let end = ShapePatterns.duration(s, i) { return (end, Self.durationMask) }
        return (ShapePatterns.number(s, i), Self.numberMask)
    }
}
