// FlowForge — byte-level matchers for the volatile tokens LineNormalizer masks.
// SPDX-License-Identifier: Apache-2.0

/// Byte-level recognisers for the volatile tokens of a log line. Every matcher takes the line's
/// UTF-8 bytes and a start index and returns the end index (exclusive) of a match, or `nil`.
/// Matchers check their own right boundary; the caller checks the left one.
enum ShapePatterns {
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    static func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
    static func isHexLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x66 }
    static func isHex(_ b: UInt8) -> Bool { isDigit(b) || isHexLetter(b) }

    /// True when `end` is the end of the line or is followed by a non-alphanumeric byte.
    static func boundary(_ s: [UInt8], _ end: Int) -> Bool { end >= s.count || !isAlnum(s[end]) }

    /// Between `lo` and `hi` digits at `i` (greedy, and no digit may follow); returns the end.
    static func digits(_ s: [UInt8], _ i: Int, _ lo: Int, _ hi: Int) -> Int? {
        var j = i
        while j < s.count, isDigit(s[j]), j - i < hi { j += 1 }
        if j - i < lo || (j < s.count && isDigit(s[j])) { return nil }
        return j
    }

    static func byte(_ s: [UInt8], _ i: Int, _ b: UInt8) -> Bool { i < s.count && s[i] == b }

    /// `8-4-4-4-12` hexadecimal groups.
    static func uuid(_ s: [UInt8], _ i: Int) -> Int? {
        var j = i
        for (index, width) in [8, 4, 4, 4, 12].enumerated() {
            if index > 0 { guard byte(s, j, 0x2D) else { return nil }; j += 1 }
            for _ in 0..<width { guard j < s.count, isHex(s[j]) else { return nil }; j += 1 }
        }
        return boundary(s, j) ? j : nil
    }

    /// `HH:MM[:SS][.frac|,frac][Z|±HH[:]MM]`; seconds may be required.
    static func clock(_ s: [UInt8], _ i: Int, requireSeconds: Bool) -> Int? {
        guard var j = digits(s, i, 1, 2), byte(s, j, 0x3A), let m = digits(s, j + 1, 2, 2) else { return nil }
        j = m
        if byte(s, j, 0x3A), let sec = digits(s, j + 1, 2, 2) {
            j = sec
            if (byte(s, j, 0x2E) || byte(s, j, 0x2C)), let frac = digits(s, j + 1, 1, 12) { j = frac }
        } else if requireSeconds {
            return nil
        }
        if byte(s, j, 0x5A), boundary(s, j + 1) { return j + 1 }
        if byte(s, j, 0x2B) || byte(s, j, 0x2D), let h = digits(s, j + 1, 2, 4) {
            j = h
            if byte(s, j, 0x3A), let mm = digits(s, j + 1, 2, 2) { j = mm }
        }
        return boundary(s, j) ? j : nil
    }

    /// ISO-8601 / RFC 3339 dates with optional time: `2024-05-01`, `2024-05-01T12:00:00.5Z`,
    /// `2024/05/01 12:00:00,123`.
    static func isoTimestamp(_ s: [UInt8], _ i: Int) -> Int? {
        guard var j = digits(s, i, 4, 4), j < s.count, s[j] == 0x2D || s[j] == 0x2F else { return nil }
        let separator = s[j]
        guard let month = digits(s, j + 1, 1, 2), byte(s, month, separator),
              let day = digits(s, month + 1, 1, 2) else { return nil }
        j = day
        if j < s.count, s[j] == 0x54 || s[j] == 0x20 || s[j] == 0x5F,
           let time = clock(s, j + 1, requireSeconds: false) {
            return time
        }
        return boundary(s, j) ? j : nil
    }

    /// Apache/NCSA common-log time: `10/Oct/2000:13:55:36 -0700`.
    static func commonLogTimestamp(_ s: [UInt8], _ i: Int) -> Int? {
        guard let day = digits(s, i, 1, 2), byte(s, day, 0x2F), day + 4 < s.count,
              isAlpha(s[day + 1]), isAlpha(s[day + 2]), isAlpha(s[day + 3]), s[day + 4] == 0x2F,
              let year = digits(s, day + 5, 4, 4), byte(s, year, 0x3A),
              var j = clock(s, year + 1, requireSeconds: true) else { return nil }
        if byte(s, j, 0x20), j + 1 < s.count, s[j + 1] == 0x2B || s[j + 1] == 0x2D,
           let zone = digits(s, j + 2, 4, 4) {
            j = zone
        }
        return j
    }

    private static let months: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map { Array($0.utf8) }

    /// Syslog time: `Oct  3 13:55:36`.
    static func syslogTimestamp(_ s: [UInt8], _ i: Int) -> Int? {
        guard i + 4 < s.count, months.contains(where: { $0[0] == s[i] && $0[1] == s[i + 1] && $0[2] == s[i + 2] }),
              s[i + 3] == 0x20 else { return nil }
        var j = i + 4
        if byte(s, j, 0x20) { j += 1 }
        guard let day = digits(s, j, 1, 2), byte(s, day, 0x20) else { return nil }
        return clock(s, day + 1, requireSeconds: true)
    }

    /// Unix time in seconds (10 digits, 2001-2039) or milliseconds (13 digits), with an optional
    /// `.fraction`: `1733541564`, `1733541564.123`, `1733541564123`. A digit run of another length is a number.
    static func epochTimestamp(_ s: [UInt8], _ i: Int) -> Int? {
        guard s[i] == 0x31 || s[i] == 0x32 else { return nil } // 1... or 2...
        var j = i
        while j < s.count, isDigit(s[j]) { j += 1 }
        let n = j - i
        guard n == 10 || n == 13 else { return nil }
        if n == 10 || n == 13, s[i] == 0x32, s[i + 1] > 0x31 { return nil } // beyond 2199...: not a time
        if byte(s, j, 0x2E), j + 1 < s.count, isDigit(s[j + 1]) {
            j += 1
            while j < s.count, isDigit(s[j]) { j += 1 }
        }
        return boundary(s, j) ? j : nil
    }

    /// Dotted-quad IPv4 address with an optional `:port`.
    static func ipv4(_ s: [UInt8], _ i: Int) -> Int? {
        var j = i
        for octet in 0..<4 {
            if octet > 0 { guard byte(s, j, 0x2E) else { return nil }; j += 1 }
            guard let end = digits(s, j, 1, 3) else { return nil }
            j = end
        }
        if byte(s, j, 0x2E), j + 1 < s.count, isDigit(s[j + 1]) { return nil }
        if byte(s, j, 0x3A), let port = digits(s, j + 1, 1, 5) { j = port }
        return boundary(s, j) ? j : nil
    }

    /// `0x`-prefixed hex of any length, or a bare run of at least `minimum` hex characters that
    /// contains both a digit and a letter (so plain words like `facade` and plain numbers stay).
    static func hex(_ s: [UInt8], _ i: Int, minimum: Int = 6) -> Int? {
        if byte(s, i, 0x30), i + 2 < s.count, s[i + 1] | 0x20 == 0x78, isHex(s[i + 2]) {
            var j = i + 2
            while j < s.count, isHex(s[j]) { j += 1 }
            return boundary(s, j) ? j : nil
        }
        var j = i
        var sawDigit = false
        var sawLetter = false
        while j < s.count, isHex(s[j]) {
            if isDigit(s[j]) { sawDigit = true } else { sawLetter = true }
            j += 1
        }
        return j - i >= minimum && sawDigit && sawLetter && boundary(s, j) ? j : nil
    }

    private static let units: [[UInt8]] = [
        "seconds", "second", "minutes", "minute", "hours", "hour", "msec", "usec", "nsec",
        "secs", "mins", "sec", "min", "hrs", "hr", "ms", "us", "ns", "\u{00B5}s", "\u{03BC}s", "s", "m", "h", "d",
    ].map { Array($0.utf8) }

    /// A number with a time unit, possibly compound: `250ms`, `3.5s`, `250µs`, `1h30m`.
    static func duration(_ s: [UInt8], _ i: Int) -> Int? {
        var j = i
        var matchedAny = false
        while j < s.count, isDigit(s[j]) {
            var k = j
            while k < s.count, isDigit(s[k]) { k += 1 }
            if byte(s, k, 0x2E), k + 1 < s.count, isDigit(s[k + 1]) {
                k += 1
                while k < s.count, isDigit(s[k]) { k += 1 }
            }
            guard let unit = units.first(where: { hasPrefix(s, k, $0) }) else { break }
            j = k + unit.count
            matchedAny = true
        }
        return matchedAny && (j >= s.count || !isAlpha(s[j])) ? j : nil
    }

    /// Digits with optional `.digits` groups (`42`, `3.14`, `1.2.3`).
    static func number(_ s: [UInt8], _ i: Int) -> Int {
        var j = i
        while j < s.count, isDigit(s[j]) { j += 1 }
        while byte(s, j, 0x2E), j + 1 < s.count, isDigit(s[j + 1]) {
            j += 1
            while j < s.count, isDigit(s[j]) { j += 1 }
        }
        return j
    }

    static func hasPrefix(_ s: [UInt8], _ i: Int, _ prefix: [UInt8]) -> Bool {
        guard i + prefix.count <= s.count else { return false }
        for (offset, b) in prefix.enumerated() where s[i + offset] != b { return false }
        return true
    }

    /// End of an ANSI/VT escape sequence starting with ESC at `i` (CSI, OSC, DCS/SOS/PM/APC, nF, Fe).
    static func escapeEnd(_ s: [UInt8], _ i: Int) -> Int {
        var j = i + 1
        guard j < s.count else { return j }
        switch s[j] {
        case 0x5B: // CSI: parameters, intermediates, one final byte
            j += 1
            while j < s.count, s[j] >= 0x20, s[j] <= 0x3F { j += 1 }
            return j < s.count && s[j] >= 0x40 && s[j] <= 0x7E ? j + 1 : j
        case 0x5D, 0x50, 0x58, 0x5E, 0x5F: // OSC, DCS, SOS, PM, APC: until BEL or ESC '\'
            j += 1
            while j < s.count {
                if s[j] == 0x07 { return j + 1 }
                if s[j] == 0x1B { return byte(s, j + 1, 0x5C) ? j + 2 : j }
                j += 1
            }
            return j
        case 0x20...0x2F: // nF: intermediates then a final byte
            while j < s.count, s[j] >= 0x20, s[j] <= 0x2F { j += 1 }
            return min(j + 1, s.count)
        default:
            return j + 1
        }
    }
}
