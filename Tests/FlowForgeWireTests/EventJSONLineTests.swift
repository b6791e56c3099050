// FlowForge — the JSON-lines event format: parseable, stable keys, RFC 3339 timestamps, numbers where meant.
// SPDX-License-Identifier: Apache-2.0
import Foundation
import FlowForgeWire
import Testing

@Suite("Event JSON lines")
struct EventJSONLineTests {
    @Test func parsesAsJSONWithStableKeys() throws {
        let event = try Event(kind: "incident.opened", generation: 2, wallNanos: 1_764_457_445_123_456_789, fields: [
            Field(key: "incident_id", value: "r1-3"), Field(key: "cpu_percent", value: "97.5"),
            Field(key: "reason", value: "CPU 97% \"quoted\"\n\u{1}tab\t"), Field(key: "pid", value: "0123"),
        ])
        let line = event.jsonLine(runID: "r1")
        #expect(line.hasSuffix("}\n") && !line.dropLast().contains("\n"))
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["ts"] as? String == "2025-11-29T23:04:05.123456Z")
        #expect(object["run_id"] as? String == "r1")
        #expect(object["generation"] as? Int == 2)
        #expect(object["kind"] as? String == "incident.opened")
        #expect(object["incident_id"] as? String == "r1-3")
        let fields = try #require(object["fields"] as? [String: Any])
        #expect(fields["cpu_percent"] as? Double == 97.5)
        #expect(fields["reason"] as? String == "CPU 97% \"quoted\"\n\u{1}tab\t")
        #expect(fields["pid"] as? String == "0123", "a leading zero is not a JSON number: kept as a string")
    }

    @Test(arguments: [(Int64(0), "1970-01-01T00:00:00.000000Z"), (Int64(951_782_400_000_000_000), "2000-02-29T00:00:00.000000Z"),
                      (Int64(-1_000), "1969-12-31T23:59:59.999999Z"), (Int64(4_102_444_799_999_999_000), "2099-12-31T23:59:59.999999Z")])
    func rfc3339(_ nanos: Int64, _ expected: String) {
        #expect(Event.rfc3339(wallNanos: nanos) == expected)
    }

    /// Regression: an agent's event with `wallNanos` near `Int64.min` trapped the reaper (which took the worker
    /// with it) in this function's `wallNanos - 999_999_999`. Every Int64 is a time now (and the reaper
    /// stamps agents' events with its own clock anyway).
    @Test func extremesDoNotTrap() {
        #expect(Event.rfc3339(wallNanos: .max) == "2262-04-11T23:47:16.854775Z")
        #expect(Event.rfc3339(wallNanos: .min) == "1677-09-21T00:12:43.145224Z")
    }
}
