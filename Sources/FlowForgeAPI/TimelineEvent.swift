// FlowForge — one event as the API keeps and serves it.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire
import Foundation

/// An event of a run, from the spool or the reaper's channel.
public struct TimelineEvent: Sendable, Equatable {
    public var runID: String
    public var seq: UInt64
    public var ts: String
    public var wallNanos: Int64
    public var generation: UInt32
    public var kind: String
    public var incidentID: String?
    public var fields: [String: String]

    public init(runID: String, seq: UInt64, ts: String, wallNanos: Int64, generation: UInt32, kind: String,
                incidentID: String?, fields: [String: String]) {
        self.runID = runID
        self.seq = seq
        self.ts = ts
        self.wallNanos = wallNanos
        self.generation = generation
        self.kind = kind
        self.incidentID = incidentID
        self.fields = fields
    }

    /// From a wire event (fields are strings there).
    public init(_ event: Event, runID: String) {
        self.runID = runID
        var f: [String: String] = [:]
        for field in event.fields { f[field.key] = field.value }
        self.seq = UInt64(f["seq"] ?? "") ?? 0
        self.ts = Event.rfc3339(wallNanos: event.wallNanos)
        self.wallNanos = event.wallNanos
        self.generation = event.generation
        self.kind = event.kind
        self.incidentID = f["incident_id"]
        f["seq"] = nil
        self.fields = f
    }

    /// From one JSON line of a spool or `--events` file; nil when the line is not an event, or its
    /// generation or sequence number is out of range (a spool is untrusted input: a `"generation": -1`
    /// trapped here once and crash-looped ingestion).
    public init?(jsonLine: Substring) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(jsonLine.utf8))) as? [String: Any],
              let kind = object["kind"] as? String, let ts = object["ts"] as? String,
              let generation = UInt32(exactly: object["generation"] as? Int ?? 0) else { return nil }
        self.runID = object["run_id"] as? String ?? ""
        self.ts = ts
        self.wallNanos = TimelineEvent.parseNanos(ts) ?? 0
        self.generation = generation
        self.kind = kind
        self.incidentID = object["incident_id"] as? String
        var f: [String: String] = [:]
        for (k, v) in object["fields"] as? [String: Any] ?? [:] {
            if let n = v as? NSNumber, !(v is Bool) { f[k] = n.stringValue } else { f[k] = "\(v)" }
        }
        guard let seq = UInt64(exactly: object["seq"] as? Int ?? Int(f["seq"] ?? "") ?? 0) else { return nil }
        self.seq = seq
        f["seq"] = nil
        self.fields = f
    }

    /// Parses RFC 3339 (`2026-11-29T23:04:05.123456Z`, fraction optional, `Z` or `±hh:mm`) to Unix ns,
    /// keeping every fractional digit up to nanoseconds (Foundation's formatter rounds to milliseconds).
    public static func parseNanos(_ ts: String) -> Int64? {
        let b = Array(ts.utf8)
        func num(_ from: Int, _ len: Int) -> Int64? {
            guard from + len <= b.count else { return nil }
            var v: Int64 = 0
            for c in b[from..<from + len] {
                guard (48...57).contains(c) else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116, b[13] == 58, b[16] == 58,
              let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2),
              let s = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        var i = 19
        var frac: Int64 = 0
        if i < b.count && b[i] == 46 {
            i += 1
            var digits = 0
            while i < b.count, (48...57).contains(b[i]) {
                if digits < 9 { frac = frac * 10 + Int64(b[i] - 48); digits += 1 }
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<9 { frac *= 10 }
        }
        var offset: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == 90 || b[i] == 122 { i += 1 } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58,
                                                     let om = num(i + 4, 2) {
            offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
            i += 6
        } else { return nil }
        guard i == b.count else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = mo <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = days * 86_400 + h * 3600 + mi * 60 + s - offset
        // Untrusted input (a query string, a spool line): a time past 2262 does not fit in Int64 nanoseconds.
        // Answer nil (the caller's 400 or its skip), never trap.
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (nanos, overflow2) = scaled.addingReportingOverflow(frac)
        return overflow2 ? nil : nanos
    }

    /// The same event without the sample's recorded output lines.
    public var withoutOutput: TimelineEvent {
        var copy = self
        copy.fields["output"] = nil
        return copy
    }

    /// The JSON object served by the API: stable keys, numbers for numeric fields, and the scores pulled
    /// out (`reason`, `scores.cpu_percent`, `scores.entropy`, `scores.confidence`) where the event has them.
    public var json: [String: Any] {
        var out: [String: Any] = ["seq": seq, "ts": ts, "run_id": runID, "generation": generation, "kind": kind]
        if let incidentID { out["incident_id"] = incidentID }
        var f: [String: Any] = [:]
        for (k, v) in fields {
            if Event.numericKeys.contains(k), let d = Double(v), d.isFinite { f[k] = d } else { f[k] = v }
        }
        out["fields"] = f
        if let reason = fields["reason"] { out["reason"] = reason }
        var scores: [String: Any] = [:]
        for key in ["cpu_percent", "entropy", "confidence"] { if let d = fields[key].flatMap(Double.init) { scores[key] = d } }
        if !scores.isEmpty { out["scores"] = scores }
        return out
    }
}
