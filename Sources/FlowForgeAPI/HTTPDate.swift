// FlowForge — the HTTP `Date` header value (RFC 9110 IMF-fixdate), formatted once a second.
// SPDX-License-Identifier: Apache-2.0
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `Sun, 06 Nov 1994 08:49:37 GMT` for now; Hummingbird's `DateCache` without its timer task.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func now() -> String {
        var now = time(nil)
        return cache.withLock { cached in
            if cached.second == now { return cached.text }
            cached = (now, format(&now))
            return cached.text
        }
    }

    /// Formats a Unix time in UTC, without the C locale's say in day and month names.
    static func format(_ seconds: inout time_t) -> String {
        var t = tm()
        gmtime_r(&seconds, &t)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(t.tm_wday)]), \(two(t.tm_mday)) \(months[Int(t.tm_mon)]) \(t.tm_year + 1900) "
            + "\(two(t.tm_hour)):\(two(t.tm_min)):\(two(t.tm_sec)) GMT"
    }
}
