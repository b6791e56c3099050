// FlowForge — fuzz target: the spool-line parser the dashboard's store and each run's API agent use on
// `runs/*.jsonl` (TimelineEvent(jsonLine:)), and the writer that produces those lines (Event.jsonLine).
// SPDX-License-Identifier: Apache-2.0
import FlowForgeModel
import FlowForgeWire
import Foundation
import FuzzSupport

/// Two modes, so that real spool lines are seeds as they are.
///
/// Input not starting with byte 0x01: the input is one line, as ingestion reads it. Never traps; a parsed event
/// keeps `wallNanos` equal to its `ts` parsed (0 when `ts` is not a time), has no `seq` left among its fields and a
/// `seq` the store's Int64 column holds, and its API rendering (`json`) serializes (the API answers `[]` for a whole
/// page whose serialization fails).
///
/// Byte 0x01, then the rest builds an `Event`: the line the reaper would spool for it must parse back to what the
/// API builds from the same event over the channel (`TimelineEvent(_:runID:)`): same run, kind, generation,
/// sequence number, incident, `ts`, field keys and values (numeric fields compared as numbers), and `wallNanos`
/// floored to the microsecond the line keeps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpoolLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    if input.first == 0x01 {
        var reader = FuzzReader(UnsafeRawBufferPointer(rebasing: input.dropFirst()))
        roundTrip(&reader)
    } else {
        let line = String(decoding: input, as: UTF8.self)
        if let event = TimelineEvent(jsonLine: Substring(line)) { checkParsed(event, line: line) }
    }
    return 0
}

private func checkParsed(_ event: TimelineEvent, line: String) {
    fuzzCheck(event.wallNanos == (Event.parseRFC3339(event.ts) ?? 0), "wallNanos \(event.wallNanos) for ts '\(event.ts)'")
    fuzzCheck(event.fields["seq"] == nil, "seq left among the fields of \(line)")
    // Store.ingest writes Int64(e.seq) and Int64(e.generation): both must fit, or ingestion traps.
    fuzzCheck(event.seq <= UInt64(Int64.max), "seq \(event.seq) does not fit the store's Int64: \(line)")
    fuzzCheck(JSONSerialization.isValidJSONObject(event.json), "json of \(line) is not serializable")
    fuzzCheck(JSONSerialization.isValidJSONObject(event.withoutOutput.json), "json without output not serializable")
    // The incident list of /timeline: the summary this event folds into (Timeline.swift, as the API agent and
    // the store build it) must serialize too, or the whole list answers [].
    for summary in Timeline.incidents([event, event]) {
        fuzzCheck(JSONSerialization.isValidJSONObject(summary.json), "incident summary of \(line) is not serializable")
    }
}

private func roundTrip(_ reader: inout FuzzReader) {
    let runID = reader.string(maxBytes: 64)
    let kind = reader.string(maxBytes: Event.maxKindBytes)
    let generation = reader.u32()
    let wallNanos = reader.i64()
    var fields: [Field] = []
    var keys: Set<String> = []
    while !reader.isAtEnd && fields.count < Event.maxFields {
        let keyChoice = reader.byte()
        // Often a key with meaning (numeric, seq, incident_id), so values meet the code paths they select.
        let special = ["seq", "incident_id", "pid", "cpu_percent", "output", "reason"]
        let key = keyChoice < 64 ? special[Int(keyChoice) % special.count] : reader.string(maxBytes: Field.maxKeyBytes)
        // The reaper replaces any `seq` with its own counter (ReaperLoop, AgentEventGate): a decimal UInt64 that
        // the store's Int64 holds. Other values are no line the reaper writes.
        let value = key == "seq" ? String(UInt64(bitPattern: reader.i64()) >> 1) : reader.string()
        guard keys.insert(key).inserted else { continue }  // a JSON object with a repeated key means nothing definite
        fields.append(Field(key: key, value: value))
    }
    guard let event = try? Event(kind: kind, generation: generation, wallNanos: wallNanos, fields: fields) else { return }
    let line = event.jsonLine(runID: runID)
    fuzzCheck(line.hasSuffix("\n") && !line.dropLast().contains("\n"), "not one line: \(line)")
    let channel = TimelineEvent(event, runID: runID)
    guard let spooled = TimelineEvent(jsonLine: line.dropLast()) else {
        fuzzFail("the reaper's own line does not parse: \(line)")
    }
    checkParsed(spooled, line: line)
    fuzzCheck(spooled.runID == channel.runID && spooled.kind == channel.kind && spooled.generation == channel.generation,
              "run/kind/generation differ: \(spooled) vs \(channel)")
    fuzzCheck(spooled.seq == channel.seq, "seq \(spooled.seq) from the spool, \(channel.seq) from the channel: \(line)")
    fuzzCheck(spooled.incidentID == channel.incidentID, "incident differs: \(line)")
    fuzzCheck(spooled.ts == channel.ts, "ts differs: \(spooled.ts) vs \(channel.ts)")
    let below = (wallNanos % 1000 + 1000) % 1000
    let (floor, overflow) = wallNanos.subtractingReportingOverflow(below)
    fuzzCheck(spooled.wallNanos == (overflow ? 0 : floor), "wallNanos \(spooled.wallNanos) for \(wallNanos): \(line)")
    fuzzCheck(Set(spooled.fields.keys) == Set(channel.fields.keys), "field keys differ: \(spooled.fields) vs \(channel.fields)")
    for (key, value) in channel.fields {
        let back = spooled.fields[key] ?? ""
        if Event.numericKeys.contains(key), let a = Double(value), let b = Double(back) {
            fuzzCheck(a == b, "numeric field \(key): '\(value)' came back as '\(back)'")
        } else {
            fuzzCheck(back == value, "field \(key): '\(value)' came back as '\(back)': \(line)")
        }
    }
}
