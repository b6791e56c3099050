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
        analyze(utf8: input, collectValues: false).shape
    }

    /// The shape of `line` and the values its masks replaced, in order.
    public func analyze(_ line: String) -> NormalizedLine {
        analyze(utf8: Array(line.utf8), collectValues: true)
    }

    func analyze(utf8 input: [UInt8], collectValues: Bool) -> NormalizedLine {
        let s = input.count > maxBytes * 8 ? Array(input[0..<(maxBytes * 8)]) : input
        var out: [UInt8] = []
        out.reserveCapacity(min(s.count, maxBytes) + 8)
        var values: [LineValue] = []
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
            // The value of a volatile key (`request_id=abcdef`, `"call_id": "call_x1"`) is masked whole,
            // whatever it looks like.
            if atBoundary, ShapePatterns.isAlnum(b), i > 0, s[i - 1] == 0x3D || s[i - 1] == 0x3A || s[i - 1] == 0x20 || s[i - 1] == 0x22,
               let key = ValueKey.name(before: i, in: s), ValueKey.isVolatile(key) {
                var end = i
                while end < s.count, ShapePatterns.isAlnum(s[end]) || s[end] == 0x5F || s[end] == 0x2D || s[end] == 0x2E || s[end] == 0x3A,
                      end - i < 128 {
                    end += 1
                }
                emit(Self.volatileMask)
                if collectValues && values.count < Self.maxValues {
                    values.append(LineValue(kind: .number, text: String(decoding: s[i..<min(end, i + 64)], as: UTF8.self), key: key))
                }
                i = end
                previousAlnum = true
                continue
            }
            if ShapePatterns.isDigit(b) || (atBoundary && ShapePatterns.isAlpha(b)),
               let (end, mask) = token(s, i, atBoundary: atBoundary) {
                emit(mask.text)
                if collectValues && values.count < Self.maxValues {
                    values.append(LineValue(kind: mask.kind, text: String(decoding: s[i..<min(end, i + 64)], as: UTF8.self),
                                            key: ValueKey.name(before: i, in: s)))
                }
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
        return NormalizedLine(shape: String(decoding: out, as: UTF8.self), values: values)
    }

    static let volatileMask = Array("<var>".utf8)

    /// At most this many masked values are kept per line.
    static let maxValues = 24

    /// The masked token starting at `i`, if any. Digit runs always produce a token.
    private func token(_ s: [UInt8], _ i: Int, atBoundary: Bool) -> (Int, Mask)? {
        if atBoundary {
            if let end = ShapePatterns.uuid(s, i) { return (end, .uuid) }
            if ShapePatterns.isAlpha(s[i]) {
                if let end = ShapePatterns.syslogTimestamp(s, i) { return (end, .time) }
                if let end = ShapePatterns.hex(s, i) { return (end, .hex) }
                return nil
            }
            if let end = ShapePatterns.isoTimestamp(s, i) { return (end, .time) }
            if let end = ShapePatterns.commonLogTimestamp(s, i) { return (end, .time) }
            if let end = ShapePatterns.clock(s, i, requireSeconds: true) { return (end, .time) }
            if let end = ShapePatterns.ipv4(s, i) { return (end, .ip) }
            if let end = ShapePatterns.epochTimestamp(s, i) { return (end, .time) }
            if let end = ShapePatterns.hex(s, i) { return (end, .hex) }
        }
        guard ShapePatterns.isDigit(s[i]) else { return nil }
        if let end = ShapePatterns.duration(s, i) { return (end, .duration) }
        return (ShapePatterns.number(s, i), .number)
    }

    /// What a mask stands for, and its text in the shape.
    struct Mask {
        let kind: LineValue.Kind
        let text: [UInt8]
        static let number = Mask(kind: .number, text: Array("<num>".utf8))
        static let hex = Mask(kind: .hex, text: Array("<hex>".utf8))
        static let uuid = Mask(kind: .uuid, text: Array("<uuid>".utf8))
        static let time = Mask(kind: .time, text: Array("<ts>".utf8))
        static let duration = Mask(kind: .duration, text: Array("<dur>".utf8))
        static let ip = Mask(kind: .ip, text: Array("<ip>".utf8))
    }
}
