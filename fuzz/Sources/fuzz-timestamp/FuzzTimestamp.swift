// FlowForge — fuzz target: the RFC 3339 parser behind `/timeline?before=` and spool ingestion, and the
// formatter behind every event's `ts`.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire
import FuzzSupport

/// Properties:
/// - parsing any text never traps;
/// - a parsed time formats and parses back to itself, to the microsecond (the formatter's precision);
/// - text already in the formatter's exact shape (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, seconds below 60) that
///   parses formats back to the same text: the parser accepts no date that does not exist;
/// - for the first 8 bytes read as an Int64 `t`: `parse(format(t))` is `t` floored to the microsecond, or nil
///   exactly when that floor is below `Int64.min`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimestamp(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let text = String(decoding: input, as: UTF8.self)
    if let nanos = Event.parseRFC3339(text) {
        let formatted = Event.rfc3339(wallNanos: nanos)
        fuzzCheck(Event.parseRFC3339(formatted) == floorMicros(nanos),
                  "'\(text)' -> \(nanos) -> '\(formatted)' does not parse back")
        if isCanonical(Array(text.utf8)) {
            fuzzCheck(formatted == text, "'\(text)' parsed as \(nanos), which formats as '\(formatted)'")
        }
    }
    if size >= 8 {
        var reader = FuzzReader(input)
        let t = reader.i64()
        let formatted = Event.rfc3339(wallNanos: t)
        fuzzCheck(Event.parseRFC3339(formatted) == floorMicros(t), "\(t) -> '\(formatted)' does not parse back")
    }
    return 0
}

/// `t` rounded down to a whole microsecond; nil when that is below `Int64.min`.
private func floorMicros(_ t: Int64) -> Int64? {
    let below = (t % 1000 + 1000) % 1000
    let (floor, overflow) = t.subtractingReportingOverflow(below)
    return overflow ? nil : floor
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` with digits where the formatter writes digits and seconds 00...59.
private func isCanonical(_ b: [UInt8]) -> Bool {
    guard b.count == 27 else { return false }
    let digits = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18] + Array(20...25)
    let punctuation: [(Int, UInt8)] = [(4, 45), (7, 45), (10, 84), (13, 58), (16, 58), (19, 46), (26, 90)]
    return digits.allSatisfy { (48...57).contains(b[$0]) } && punctuation.allSatisfy { b[$0.0] == $0.1 } && b[17] < 54
}
