// FlowForge — the HTTP `Date` header value (RFC 9110 IMF-fixdate), formatted once a second.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import Synchronization

/// `Sun, 06 Nov 1994 08:49:37 GMT` for now; Hummingbird's `DateCache` without its timer task.
enum HTTPDate {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func now() -> String {
        let now = Int(Clock.wallSeconds())
        return cache.withLock { cached in
            if cached.second == now { return cached.text }
            cached = (now, format(Int64(now)))
            return cached.text
        }
    }

    /// Formats a Unix time in UTC, without the C locale's say in day and month names.
    static func format(_ seconds: Int64) -> String {
        let t = Clock.utc(seconds)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[t.weekday]), \(two(t.day)) \(months[t.month - 1]) \(t.year) "
            + "\(two(t.hour)):\(two(t.minute)):\(two(t.second)) GMT"
    }
}
