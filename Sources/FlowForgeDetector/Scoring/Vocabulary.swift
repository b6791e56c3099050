// FlowForge — what a line says: failure, retrying, or work completed.
// SPDX-License-Identifier: Apache-2.0

/// The words of a line that tell a stuck loop from progress. A loop that repeats a line saying `error`,
/// `refused`, `timeout` or `retrying` is stuck on that failure; a worker repeating `processed`, `acked` or
/// `saved` is getting work done. Words are matched whole and case-insensitively; HTTP status codes count
/// too (`503` as failure, `200`/`201`/`204` as completion) on lines that look like HTTP (a method, `http`,
/// `status`, `code`, `response`, `returned`, or `->`), so an `id=503` elsewhere says nothing.
public struct Vocabulary: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// error, exception, traceback, failed, refused, timeout, not found, 5xx, ...
    public static let failure = Vocabulary(rawValue: 1)
    /// retry, retrying, reconnecting, again, backoff, ...
    public static let retry = Vocabulary(rawValue: 2)
    /// processed, done, acked, saved, wrote, completed, ok, 2xx, ...
    public static let completion = Vocabulary(rawValue: 4)

    static let failureWords: Set<String> = [
        "error", "errors", "err", "exception", "traceback", "fail", "failed", "failure", "failing", "fatal",
        "refused", "timeout", "timedout", "unavailable", "unreachable", "denied", "panic", "crash", "crashed",
        "invalid", "cannot", "unable", "abort", "aborted", "reset", "broken", "filenotfounderror", "notfound",
        "keyerror", "valueerror", "typeerror", "runtimeerror", "connectionerror", "oserror", "ioerror",
    ]
    static let retryWords: Set<String> = [
        "retry", "retrying", "retried", "retries", "reconnect", "reconnecting", "again", "backoff", "reattempt",
        "reattempting", "requeue", "requeued", "redelivered", "backing",
    ]
    static let httpContext: Set<String> = [
        "http", "https", "status", "code", "response", "returned", "get", "post", "put", "delete", "patch", "head",
    ]
    static let completionWords: Set<String> = [
        "processed", "done", "acked", "ack", "acknowledged", "saved", "wrote", "written", "completed", "complete",
        "success", "successful", "succeeded", "ok", "finished", "indexed", "fetched", "uploaded", "committed",
        "stored", "passed", "delivered", "published", "sent", "built", "compiled", "created", "loaded",
    ]

    /// The vocabulary of `line` (at most its first 1 KiB is read).
    public static func of(_ line: String) -> Vocabulary {
        var found: Vocabulary = []
        var word: [UInt8] = []
        var digits = 0
        var digitLead: UInt8 = 0
        var previous = ""
        var statusFailure = false
        var statusSuccess = false
        var http = false
        var previousByte: UInt8 = 0
        func endWord() {
            if !word.isEmpty {
                let w = String(decoding: word, as: UTF8.self)
                if failureWords.contains(w) || (previous == "not" && w == "found") || (previous == "timed" && w == "out") {
                    found.insert(.failure)
                } else if retryWords.contains(w) || (previous == "try" && w == "again") {
                    found.insert(.retry)
                } else if completionWords.contains(w) {
                    found.insert(.completion)
                }
                if w.hasSuffix("error") || w.hasSuffix("exception") { found.insert(.failure) }
                if httpContext.contains(w) { http = true }
                previous = w
                word.removeAll(keepingCapacity: true)
            }
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
                word.append(b | 0x20)
            } else if ShapePatterns.isDigit(b) {
                if !word.isEmpty { endWord(); digits = 99 }
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
}
