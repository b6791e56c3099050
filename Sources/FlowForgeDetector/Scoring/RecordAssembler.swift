// FlowForge — joins multi-line records (tracebacks, stack traces) into one unit before analysis.
// SPDX-License-Identifier: Apache-2.0

/// Groups the lines of one stream into *records*: a Python traceback (`Traceback (most recent call last):`,
/// its indented frames and the exception line that ends it), a Java/JavaScript stack (an exception line
/// followed by `at ...`, `Caused by: ...`, `... N more`) or a Go panic become one record, every other line
/// is a record of its own. A loop that prints the same traceback each time is then a one-record cycle, and
/// a traceback longer than the cycle search's period still counts as one unit.
///
/// A line is held until the next line shows whether it continues; `flush(olderThan:)` releases what is held,
/// except a traceback still being written (its last line less than a second old). Records are capped at
/// 64 lines and 4 KiB.
public struct RecordAssembler: Sendable {
    /// A finished record: its lines joined with `\n`, and when its first line arrived.
    public struct Record: Sendable, Equatable {
        public var text: String
        public var at: UInt64
        public var lines: Int
    }

    private var pending: [String] = []
    private var pendingBytes = 0
    private var firstAt: UInt64 = 0
    private var lastAt: UInt64 = 0
    private var inTraceback = false
    static let maxLines = 64
    static let maxBytes = 4096

    public init() {}

    /// Feeds one line received at `time`; returns the records it completed, oldest first.
    public mutating func push(_ line: String, at time: UInt64) -> [Record] {
        var done: [Record] = []
        if inTraceback {
            if Self.isContinuation(line) || line.isEmpty {
                append(line, at: time)
            } else if Self.isTracebackHeader(line) {
                done += take()
                start(line, at: time, traceback: true)
            } else {
                append(line, at: time) // the exception line ends a Python traceback
                done += take()
            }
        } else if Self.isTracebackHeader(line) {
            done += take()
            start(line, at: time, traceback: true)
        } else if !pending.isEmpty && Self.isStackContinuation(line) {
            append(line, at: time)
        } else {
            done += take()
            start(line, at: time, traceback: false)
        }
        if pending.count >= Self.maxLines || pendingBytes >= Self.maxBytes { done += take() }
        return done
    }

    /// Releases the held record unless it is a traceback whose last line arrived less than `hold` ns
    /// before `now` (default one second).
    public mutating func flush(now: UInt64, hold: UInt64 = 1_000_000_000) -> [Record] {
        if inTraceback && now < lastAt &+ hold { return [] }
        return take()
    }

    /// Forgets everything held.
    public mutating func reset() {
        pending = []
        pendingBytes = 0
        inTraceback = false
    }

    private mutating func start(_ line: String, at time: UInt64, traceback: Bool) {
        pending = [line]
        pendingBytes = line.utf8.count
        firstAt = time
        lastAt = time
        inTraceback = traceback
    }

    private mutating func append(_ line: String, at time: UInt64) {
        pending.append(line)
        pendingBytes += line.utf8.count + 1
        lastAt = time
    }

    private mutating func take() -> [Record] {
        guard !pending.isEmpty else { return [] }
        var text = pending.count == 1 ? pending[0] : pending.joined(separator: "\n")
        if text.utf8.count > Self.maxBytes { text = String(decoding: text.utf8.prefix(Self.maxBytes), as: UTF8.self) }
        let record = Record(text: text, at: firstAt, lines: pending.count)
        reset()
        return [record]
    }

    /// Whether `line` continues the record before it: an indented line (frames, source lines) or a stack
    /// continuation (`at ...`, `Caused by: ...`).
    static func isContinuation(_ line: String) -> Bool {
        isIndented(line) || isStackContinuation(line)
    }

    static func isIndented(_ line: String) -> Bool {
        guard let first = line.utf8.first else { return false }
        return first == 0x20 || first == 0x09
    }

    static func isTracebackHeader(_ line: String) -> Bool {
        line.hasPrefix("Traceback (most recent call last)") || line.hasPrefix("panic: ")
            || line.hasPrefix("goroutine ") && line.hasSuffix(":")
    }

    static func isStackContinuation(_ line: String) -> Bool {
        if isIndented(line) {
            let trimmed = line.utf8.drop(while: { $0 == 0x20 || $0 == 0x09 })
            for prefix in ["at ", "File \"", "..."] where trimmed.starts(with: prefix.utf8) { return true }
        }
        return line.hasPrefix("Caused by: ") || line.hasPrefix("During handling of the above exception")
            || line.hasPrefix("The above exception was the direct cause")
    }
}
