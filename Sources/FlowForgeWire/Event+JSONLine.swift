// FlowForge — one event as one line of JSON (the `--events FILE` format), written without Foundation.
// SPDX-License-Identifier: Apache-2.0

extension Event {
    /// Field keys whose values are written as JSON numbers when they parse as finite decimals.
    public static let numericKeys: Set<String> = [
        "pid", "pgid", "exit_code", "signal", "cpu_percent", "peak_cpu_percent", "mean_cpu_percent", "entropy",
        "repetition", "confidence", "cycle_period", "cycle_fraction", "lines", "rss_bytes", "processes",
        "latency_seconds", "sustained_seconds", "cgroup_members", "action_id", "dropped_bytes", "restarts",
        "draw", "canary_percent", "seed", "backoff_seconds", "silence_seconds", "threshold_cpu_percent",
        "min_confidence", "distinct_ratio", "structured_fraction", "recovery_window_seconds", "seq",
        "ticks", "ticks_per_second", "repeating", "io_syscalls", "io_bytes", "io_switches",
    ]

    /// `{"ts":"<RFC 3339 UTC>","run_id":"…","generation":N,"kind":"…","fields":{…}}` plus a newline.
    /// Keys are stable; `seq` (the run's event sequence number) and `incident_id`, when fields carry them,
    /// are also lifted to the top level.
    public func jsonLine(runID: String) -> String {
        var out = "{\"ts\":\"" + Event.rfc3339(wallNanos: wallNanos) + "\",\"run_id\":"
        Event.appendJSONString(runID, to: &out)
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

    /// RFC 3339 in UTC with microseconds, e.g. `2026-11-29T23:04:05.123456Z`. Defined for every `Int64`: an
    /// event's time can come from an agent, and no arithmetic here may trap on it (`Int64.min` did, in the
    /// reaper, through `wallNanos - 999_999_999`).
    public static func rfc3339(wallNanos: Int64) -> String {
        var seconds = wallNanos / 1_000_000_000
        var rest = wallNanos % 1_000_000_000
        if rest < 0 {
            seconds -= 1
            rest += 1_000_000_000
        }
        let micros = rest / 1000
        var days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):"
            + "\(pad(secOfDay % 60, 2)).\(pad(micros, 6))Z"
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
