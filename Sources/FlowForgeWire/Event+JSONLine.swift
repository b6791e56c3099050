// FlowForge — one event as one line of JSON (the `--events FILE` format), written without Foundation.
// SPDX-License-Identifier: Apache-2.0

extension Event {
    /// Field keys whose values are written as JSON numbers when they parse as finite decimals.
    public static let numericKeys: Set<String> = [
        "pid", "pgid", "exit_code", "signal", "cpu_percent", "peak_cpu_percent", "mean_cpu_percent", "entropy",
        "repetition", "confidence", "cycle_period", "cycle_fraction", "lines", "rss_bytes", "memory_bytes", "processes",
        "latency_seconds", "sustained_seconds", "cgroup_members", "action_id", "dropped_bytes", "restarts",
        "draw", "canary_percent", "seed", "backoff_seconds", "silence_seconds", "threshold_cpu_percent",
        "min_confidence", "distinct_ratio", "structured_fraction", "recovery_window_seconds", "seq",
        "ticks", "ticks_per_second", "repeating", "io_syscalls", "io_bytes", "io_switches", "watchdog_age_seconds",
    ]

    /// `{"ts":"<RFC 3339 UTC>","run_id":"…","name":"…","generation":N,"kind":"…","fields":{…}}` plus a
    /// newline (`name`, the worker's name, when given). Keys are stable; `seq` (the run's event sequence
    /// number) and `incident_id`, when fields carry them, are also lifted to the top level.
    public func jsonLine(runID: String, name: String = "") -> String {
        var out = "{\"ts\":\"" + Event.rfc3339(wallNanos: wallNanos) + "\",\"run_id\":"
        Event.appendJSONString(runID, to: &out)
        if !name.isEmpty {
            out += ",\"name\":"
            Event.appendJSONString(name, to: &out)
        }
        out += ",\"generation\":\(generation),\"kind\":"
        Event.appendJSONString(kind, to: &out)
        if let seq = fields.first(where: { $0.key == "seq" }), Event.isJSONNumber(seq.value) {
            out += ",\"seq\":" + seq.value
        }
        if let incident = fields.first(where: { $0.key == "incident_id" }) {
            out += ",\"incident_id\":"
            Event.appendJSONString(incident.value, to: &out)
        }
        out += ",\"fields\":{"
        for (i, field) in fields.enumerated() {
            if i > 0 { out += "," }
            Event.appendJSONString(field.key, to: &out)
            out += ":"
            if Event.numericKeys.contains(field.key), Event.isJSONNumber(field.value) {
                out += field.value
            } else {
                Event.appendJSONString(field.value, to: &out)
            }
        }
        return out + "}}\n"
    }

    /// One log line as JSON: `{"ts":…,"level":…,"component":…,"pid":…,"msg":…}` plus a newline.
    public static func jsonLogLine(level: String, component: String, pid: Int32, message: String, wallNanos: Int64) -> String {
        var out = "{\"ts\":\"" + rfc3339(wallNanos: wallNanos) + "\",\"level\":"
        appendJSONString(level, to: &out)
        out += ",\"component\":"
        appendJSONString(component, to: &out)
        out += ",\"pid\":\(pid),\"msg\":"
        appendJSONString(message, to: &out)
        return out + "}\n"
    }

    static func appendJSONString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// A strict JSON number: optional minus, digits without leading zeros, optional fraction.
    static func isJSONNumber(_ s: String) -> Bool {
        var bytes = Array(s.utf8)[...]
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        guard let first = bytes.first, (48...57).contains(first) else { return false }
        let intPart = bytes.prefix { (48...57).contains($0) }
        if intPart.count > 1 && first == 48 { return false }
        bytes = bytes.dropFirst(intPart.count)
        if bytes.isEmpty { return true }
        guard bytes.first == UInt8(ascii: ".") else { return false }
        bytes = bytes.dropFirst()
        return !bytes.isEmpty && bytes.allSatisfy { (48...57).contains($0) }
    }
}
