// FlowForge — what a line says: failure, retrying, or work completed.
// SPDX-License-Identifier: Apache-2.0

/// The words of a line that tell a stuck loop from progress. A loop that repeats a line saying `error`,
/// `refused`, `timeout` or `retrying` is stuck on that failure; a worker repeating `processed`, `acked` or
/// `saved` is getting work done. Words are matched whole and case-insensitively; HTTP status codes count
/// too (`503` as failure, `200`/`201`/`204` as completion) on lines that look like HTTP (a method, `http`,
/// `status`, `code`, `response`, `returned`, or `->`), so an `id=503` elsewhere says nothing.
///
/// Called for every output record, so words are compared by a 64-bit FNV-1a hash of their lowercased
/// letters, never allocated.
public struct Vocabulary: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// error, exception, traceback, failed, refused, timeout, not found, 5xx, ...
    public static let failure = Vocabulary(rawValue: 1)
    /// retry, retrying, reconnecting, again, backoff, ...
    public static let retry = Vocabulary(rawValue: 2)
    /// processed, done, acked, saved, wrote, completed, ok, 2xx, ...
    public static let completion = Vocabulary(rawValue: 4)

    static let failureWords = hashes([
        "error", "errors", "err", "exception", "traceback", "fail", "failed", "failure", "failing", "fatal",
        "refused", "timeout", "timedout", "unavailable", "unreachable", "denied", "panic", "crash", "crashed",
        "invalid", "cannot", "unable", "abort", "aborted", "reset", "broken", "filenotfounderror", "notfound",
        "keyerror", "valueerror", "typeerror", "runtimeerror", "connectionerror", "oserror", "ioerror",
    ])
    static let retryWords = hashes([
        "retry", "retrying", "retried", "retries", "reconnect", "reconnecting", "again", "backoff", "reattempt",
        "reattempting", "requeue", "requeued", "redelivered", "backing",
    ])
    static let completionWords = hashes([
        "processed", "done", "acked", "ack", "acknowledged", "saved", "wrote", "written", "completed", "complete",
        "success", "successful", "succeeded", "ok", "finished", "indexed", "fetched", "uploaded", "committed",
        "stored", "passed", "delivered", "published", "sent", "built", "compiled", "created", "loaded",
    ])
    static let httpContext = hashes([
        "http", "https", "status", "code", "response", "returned", "get", "post", "put", "delete", "patch", "head",
    ])
    static let not = hash("not"), found = hash("found"), timed = hash("timed"), out = hash("out"), `try` = hash("try")

    static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
    static let fnvPrime: UInt64 = 0x100_0000_01b3

    static func hash(_ word: String) -> UInt64 {
        var h = fnvOffset
        for b in word.utf8 { h = (h ^ UInt64(b | 0x20)) &* fnvPrime }
        return h
    }

    static func hashes(_ words: [String]) -> Set<UInt64> { Set(words.map(hash)) }

    /// The vocabulary of `line` (at most its first 1 KiB is read).
    public static func of(_ line: String) -> Vocabulary {
        var found: Vocabulary = []
        var h = fnvOffset
        var length = 0
        // The last five letters of the current word, to see `...error` and `...exception` endings.
        var tail: UInt64 = 0
        var previous: UInt64 = 0
        var digits = 0
        var digitLead: UInt8 = 0
        var statusFailure = false, statusSuccess = false, http = false
        var previousByte: UInt8 = 0

        func endWord() {
            guard length > 0 else { return }
            if failureWords.contains(h) || (previous == Self.not && h == Self.found) || (previous == Self.timed && h == Self.out) {
                found.insert(.failure)
            } else if retryWords.contains(h) || (previous == Self.try && h == retryAgain) {
                found.insert(.retry)
            } else if completionWords.contains(h) {
                found.insert(.completion)
            }
            // "error" = 0x6572726f72, "ption" (…exception) = 0x7074696f6e, as the last five letters.
            if length >= 5 && (tail & 0xFF_FFFF_FFFF == 0x65_7272_6f72 || tail & 0xFF_FFFF_FFFF == 0x70_7469_6f6e) {
                found.insert(.failure)
            }
            if httpContext.contains(h) { http = true }
            previous = h
            h = fnvOffset
            length = 0
            tail = 0
        }
        func endNumber() {
            if digits == 3 {
                if digitLead == 0x35 { statusFailure = true } else if digitLead == 0x32 { statusSuccess = true }
            }
            digits = 0
        }
        for b in line.utf8.prefix(1024) {
            if ShapePatterns.isAlpha(b) {
                if digits > 0 { digits = 99 } // a digit run glued to letters is not a status code
                let lower = b | 0x20
                h = (h ^ UInt64(lower)) &* fnvPrime
                tail = tail << 8 | UInt64(lower)
                length += 1
            } else if ShapePatterns.isDigit(b) {
                if length > 0 { endWord(); digits = 99 }
                if digits == 0 { digitLead = b }
                digits += 1
            } else {
                endWord()
                endNumber()
                if b == 0x3E && previousByte == 0x2D { http = true } // ->
            }
            previousByte = b
        }
        endWord()
        endNumber()
        if http && statusFailure { found.insert(.failure) }
        if http && statusSuccess { found.insert(.completion) }
        return found
    }

    static let retryAgain = hash("again")
}
