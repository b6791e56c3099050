// FlowForge — monotonic and wall clocks in nanoseconds.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// Monotonic and wall time without Foundation.
public enum Clock {
    /// CLOCK_MONOTONIC in nanoseconds.
    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// CLOCK_REALTIME in nanoseconds since the Unix epoch.
    public static func wallNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    /// CLOCK_REALTIME in whole seconds since the Unix epoch.
    public static func wallSeconds() -> Int64 {
        Int64(time(nil))
    }

    /// `seconds` since the Unix epoch as a UTC calendar time (gmtime_r).
    public static func utc(_ seconds: Int64) -> UTCTime {
        var t = time_t(seconds)
        var broken = tm()
        gmtime_r(&t, &broken)
        return UTCTime(year: Int(broken.tm_year) + 1900, month: Int(broken.tm_mon) + 1, day: Int(broken.tm_mday),
                       hour: Int(broken.tm_hour), minute: Int(broken.tm_min), second: Int(broken.tm_sec),
                       weekday: Int(broken.tm_wday))
    }
}

/// A calendar time in UTC, as `Clock.utc(_:)` breaks it down.
public struct UTCTime: Sendable, Equatable {
    public var year: Int
    /// 1...12.
    public var month: Int
    /// 1...31.
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// 0 = Sunday ... 6 = Saturday.
    public var weekday: Int
}
