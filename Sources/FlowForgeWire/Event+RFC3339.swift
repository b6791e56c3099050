// FlowForge — RFC 3339 timestamps: formatting an event's time, and parsing one from untrusted text.
// SPDX-License-Identifier: Apache-2.0

extension Event {
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

    /// Parses RFC 3339 (`2026-11-29T23:04:05.123456Z`, fraction optional, `Z` or `±hh:mm`) to Unix ns,
    /// keeping every fractional digit up to nanoseconds (Foundation's formatter rounds to milliseconds).
    ///
    /// Untrusted input (a query string, a spool line): nil for anything that is not such a time (a day the
    /// month does not have, an offset past 23:59) or does not fit in Int64 nanoseconds; never traps.
    /// `fuzz/` checks that `parseRFC3339(rfc3339(wallNanos: t))` is `t` to the microsecond for every `Int64`.
    public static func parseRFC3339(_ ts: some StringProtocol) -> Int64? {
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
              let s = num(17, 2), (1...12).contains(mo), (1...daysInMonth(mo, year: y)).contains(d), h < 24, mi < 60,
              s < 61 else { return nil }  // :60 is a leap second, read as the next second's first instant
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
                                                     let om = num(i + 4, 2), oh < 24, om < 60 {
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
        // Answer nil (the caller's 400 or its skip), never trap. Before 1970 the whole seconds alone can overflow
        // where the time does not (1677-09-21T00:12:43.5Z: -9223372037 s is below Int64.min ns, the time is
        // not; the fuzzer found it), so a negative time is counted from the next second down.
        let whole = seconds < 0 ? seconds + 1 : seconds
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (nanos, overflow2) = scaled.addingReportingOverflow(seconds < 0 ? frac - 1_000_000_000 : frac)
        return overflow2 ? nil : nanos
    }

    /// Days in `month` (1...12) of the proleptic Gregorian `year`: a 31st of February is not a date.
    static func daysInMonth(_ month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
