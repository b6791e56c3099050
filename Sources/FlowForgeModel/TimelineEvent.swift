// FlowForge — one event as the API keeps and serves it.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire
import Foundation

/// An event of a run, from the spool or the reaper's channel.
public struct TimelineEvent: Sendable, Equatable {
    public var runID: String
    /// The worker's name (`WorkerName`), or "" for a run recorded before names existed.
    public var name: String
    public var seq: UInt64
    public var ts: String
    public var wallNanos: Int64
    public var generation: UInt32
    public var kind: String
    public var incidentID: String?
    public var fields: [String: String]

    public init(runID: String, name: String = "", seq: UInt64, ts: String, wallNanos: Int64, generation: UInt32, kind: String,
                incidentID: String?, fields: [String: String]) {
        self.runID = runID
        self.name = name
        self.seq = seq
        self.ts = ts
        self.wallNanos = wallNanos
        self.generation = generation
        self.kind = kind
        self.incidentID = incidentID
        self.fields = fields
    }

    /// From a wire event (fields are strings there).
    public init(_ event: Event, runID: String, name: String = "") {
        self.runID = runID
        self.name = name
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
        self.name = object["name"] as? String ?? ""
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
        Event.parseRFC3339(ts)
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
        if !name.isEmpty { out["name"] = name }
        if let incidentID { out["incident_id"] = incidentID }
        var f: [String: Any] = [:]
        for (k, v) in fields {
            if Event.numericKeys.contains(k), let d = Double(v), d.isFinite { f[k] = d } else { f[k] = v }
        }
        out["fields"] = f
        if let reason = fields["reason"] { out["reason"] = reason }
        var scores: [String: Any] = [:]
        for key in ["cpu_percent", "entropy", "confidence"] { if let d = fields[key].flatMap(Double.init), d.isFinite { scores[key] = d } }
        if !scores.isEmpty { out["scores"] = scores }
        return out
    }
}
