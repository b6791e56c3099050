// FlowForge — the values a line's masks replaced, and which of them say nothing about progress.
// SPDX-License-Identifier: Apache-2.0

/// A normalized line: its shape (the template) and the values that were masked to make it.
public struct NormalizedLine: Sendable, Equatable {
    /// The line with volatile tokens masked (see `LineNormalizer`).
    public var shape: String
    /// The masked tokens, in order (at most `LineNormalizer.maxValues`).
    public var values: [LineValue]
}

/// One masked token of a line.
public struct LineValue: Sendable, Equatable {
    /// What the token looked like.
    public enum Kind: UInt8, Sendable, Equatable {
        case number, hex, uuid, ip, time, duration
    }

    public var kind: Kind
    /// The token's text (at most 64 bytes).
    public var text: String
    /// The key the value belongs to (`request_id` in `request_id=9f3a7c21` or `"request_id": "9f3a7c21"`),
    /// lowercased with `_`, `-` and `.` removed, or nil.
    public var key: String?

    public init(kind: Kind, text: String, key: String? = nil) {
        self.kind = kind
        self.text = text
        self.key = key
    }

    /// Whether the value changes from one iteration of a loop to the next without meaning anything:
    /// timestamps, durations, and values of keys that name a time, a latency, a request/trace/call id or
    /// an iteration counter (`ValueKey.volatile`).
    public var isVolatile: Bool {
        if kind == .time || kind == .duration { return true }
        guard let key else { return false }
        return ValueKey.isVolatile(key)
    }
}

/// Key names in `key=value` text and in JSON records.
public enum ValueKey {
    /// Keys whose values change on every iteration of a stuck loop as much as on every unit of real work, so
    /// they are evidence of neither: times, latencies, per-request ids, iteration counters. Compared after
    /// lowercasing and removing `_`, `-`, `.`.
    public static let volatile: Set<String> = [
        "ts", "time", "timestamp", "datetime", "date", "at", "t", "now", "created", "createdat", "updatedat",
        "asctime", "elapsed", "latency", "duration", "took", "ms", "us", "ns", "sec", "secs", "seconds",
        "elapsedms", "durationms", "latencyms", "tookms", "timems", "uptime",
        "requestid", "reqid", "traceid", "spanid", "parentid", "callid", "toolcallid", "correlationid",
        "xrequestid", "runid", "messageid", "msgid", "eventid",
        "step", "seq", "sequence", "iteration", "iter", "attempt", "try", "tries", "tick", "n", "i", "count",
        "pid", "tid", "thread", "threadid",
    ]

    /// Whether the normalized key names a volatile field. Suffixes count too (`start_time`, `query_ms`).
    public static func isVolatile(_ key: String) -> Bool {
        if volatile.contains(key) { return true }
        for suffix in ["time", "timestamp", "ms", "latency", "elapsed", "duration", "requestid", "traceid", "spanid", "callid"]
        where key.count > suffix.count && key.hasSuffix(suffix) {
            return true
        }
        return false
    }

    /// Lowercases `raw` and drops `_`, `-`, `.` and quotes: `Request-ID` → `requestid`.
    public static func normalized<S: Sequence<UInt8>>(_ raw: S) -> String {
        var out: [UInt8] = []
        for b in raw where b != 0x5F && b != 0x2D && b != 0x2E && b != 0x22 {
            out.append(ShapePatterns.isAlpha(b) ? b | 0x20 : b)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The key a value starting at `start` belongs to: the word right before `=`, `:` or `": ` (spaces
    /// allowed after the separator), or nil.
    static func name(before start: Int, in s: [UInt8]) -> String? {
        var j = start - 1
        while j >= 0, s[j] == 0x20 || s[j] == 0x22 || s[j] == 0x27 { j -= 1 } // spaces and opening quotes
        guard j >= 0, s[j] == 0x3D || s[j] == 0x3A else { return nil }
        j -= 1
        if j >= 0, s[j] == 0x22 || s[j] == 0x27 { j -= 1 } // closing quote of a JSON key
        let end = j + 1
        while j >= 0, ShapePatterns.isAlnum(s[j]) || s[j] == 0x5F || s[j] == 0x2D || s[j] == 0x2E, end - j <= 40 { j -= 1 }
        guard end - (j + 1) > 0 else { return nil }
        return normalized(s[(j + 1)..<end])
    }
}
