// FlowForge — a counter toward a fixed total in an output line (`chunk 17/160`), the mark of a job making progress.
// SPDX-License-Identifier: Apache-2.0

/// The first `N/M` token in a line: two digit runs joined by one slash, with `0 < M` and `N <= M`.
///
/// The token must stand alone: no letter, digit, `/` or `.` directly before it, and no letter, digit, `/`
/// or `.digit` directly after it. So `12/2024/05` (a date), `v1/2.5`, `a/b` (a path) and `1/3.0` are not
/// counters; `loaded chunk 17/160 (71.4 MB)`, `[3/12] Compiling` and `step 4/10:` are. Digit runs longer
/// than 12 are ignored. Only the first 4 KiB of a line are examined.
public struct ProgressCounter: Sendable, Equatable {
    /// The count so far (N).
    public var done: Int
    /// The fixed total (M).
    public var total: Int

    public init(done: Int, total: Int) {
        self.done = done
        self.total = total
    }

    /// The first counter in `line`, or nil.
    public static func find(in line: String) -> ProgressCounter? {
        var s = Array(line.utf8.prefix(4096))
        s.append(0) // sentinel: every index + 1 is readable
        var i = 0
        while i < s.count - 1 {
            guard ShapePatterns.isDigit(s[i]) else {
                i += 1
                continue
            }
            let start = i
            while ShapePatterns.isDigit(s[i]) { i += 1 }
            let before = start > 0 ? s[start - 1] : 0x20
            guard !ShapePatterns.isAlpha(before), before != UInt8(ascii: "/"), before != UInt8(ascii: "."),
                  s[i] == UInt8(ascii: "/"), ShapePatterns.isDigit(s[i + 1]) else { continue }
            let slash = i
            var end = slash + 1
            while ShapePatterns.isDigit(s[end]) { end += 1 }
            let after = s[end]
            let decimal = after == UInt8(ascii: ".") && ShapePatterns.isDigit(s[end + 1]) // `.` is never the sentinel
            i = end
            guard !ShapePatterns.isAlpha(after), after != UInt8(ascii: "/"), !decimal,
                  slash - start <= 12, end - slash - 1 <= 12,
                  let done = Int(String(decoding: s[start..<slash], as: UTF8.self)),
                  let total = Int(String(decoding: s[(slash + 1)..<end], as: UTF8.self)),
                  total > 0, done <= total else { continue }
            return ProgressCounter(done: done, total: total)
        }
        return nil
    }
}

/// Which shapes in a run of lines are progress: every line of the shape carries a counter that never goes
/// back and advances over the run (at least `minLines` lines). The counter may start over only after it
/// reached its total, and only after a stretch of at least `minSegment` lines (a batch job moving on to
/// the next file: `chunk 160/160`, then `chunk 1/95`). A retry loop (`attempt 1/5` ... `attempt 5/5`, then
/// `attempt 1/5` again) starts over too often, and a stuck `step 3/10` never advances: neither is progress.
struct ProgressShapes {
    private struct Track {
        var total: Int
        var last: Int
        var lines = 1
        var segmentLines = 1
        var advanced = false
        var valid = true
    }

    private var tracks: [String: Track] = [:]
    static let minLines = 3
    static let minSegment = 20

    mutating func add(shape: String, counter: ProgressCounter?) {
        guard var t = tracks[shape] else {
            tracks[shape] = counter.map { Track(total: $0.total, last: $0.done) } ?? Track(total: 0, last: 0, valid: false)
            return
        }
        defer { tracks[shape] = t }
        t.lines += 1
        guard t.valid, let c = counter else {
            t.valid = false
            return
        }
        if c.total == t.total && c.done >= t.last {
            t.advanced = t.advanced || c.done > t.last
            t.last = c.done
            t.segmentLines += 1
        } else if t.last == t.total && t.segmentLines >= Self.minSegment {
            t.total = c.total
            t.last = c.done
            t.segmentLines = 1
        } else {
            t.valid = false
        }
    }

    /// Whether lines of `shape` count as progress.
    func isProgress(_ shape: String) -> Bool {
        guard let t = tracks[shape] else { return false }
        return t.valid && t.advanced && t.lines >= Self.minLines
    }
}
