// FlowForge — what a process has done besides burning CPU: read/write calls, bytes moved, voluntary context switches.
// SPDX-License-Identifier: Apache-2.0

/// Cumulative activity counters of one process (or, summed, of a tree), from `/proc/PID/io` and
/// `/proc/PID/status`. A silent process that is reading, writing or blocking is working; a tight spin does
/// none of these. The detector uses the rates between two samples to corroborate its silence rule.
///
/// - Important: `/proc/PID/io` needs ptrace read access to the process (same uid and dumpable, or
///   `CAP_SYS_PTRACE`); a process it cannot read contributes nothing and `readable` stays false for it.
public struct ProcessActivity: Sendable, Equatable {
    /// Read- and write-family system calls (`syscr + syscw`).
    public var syscalls: UInt64 = 0
    /// Bytes passed through read and write calls (`rchar + wchar`; page-cache hits included).
    public var bytes: UInt64 = 0
    /// Voluntary context switches of the process's main thread (it blocked: I/O, a lock, a sleep).
    public var voluntarySwitches: UInt64 = 0
    /// Whether at least one process's `io` file could be read.
    public var readable = false

    public init(syscalls: UInt64 = 0, bytes: UInt64 = 0, voluntarySwitches: UInt64 = 0, readable: Bool = false) {
        self.syscalls = syscalls
        self.bytes = bytes
        self.voluntarySwitches = voluntarySwitches
        self.readable = readable
    }

    /// The counters of `pid`, or nil if its `io` file cannot be read (gone, or no permission).
    public static func read(pid: Int32) -> ProcessActivity? {
        guard let io = FileIO.readFile("/proc/\(pid)/io", limit: 1024) else { return nil }
        var a = ProcessActivity(readable: true)
        let fields = Self.fields(io)
        a.syscalls = (fields["syscr"] ?? 0) &+ (fields["syscw"] ?? 0)
        a.bytes = (fields["rchar"] ?? 0) &+ (fields["wchar"] ?? 0)
        if let status = FileIO.readFile("/proc/\(pid)/status", limit: 8192) {
            a.voluntarySwitches = Self.fields(status)["voluntary_ctxt_switches"] ?? 0
        }
        return a
    }

    /// Adds `other`'s counters (wrapping, never trapping) to these.
    public mutating func add(_ other: ProcessActivity) {
        syscalls &+= other.syscalls
        bytes &+= other.bytes
        voluntarySwitches &+= other.voluntarySwitches
        readable = readable || other.readable
    }

    /// `name: value` or `name:\tvalue` lines with unsigned values; other lines are skipped.
    static func fields(_ text: [UInt8]) -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for line in text.split(separator: UInt8(ascii: "\n")) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let digits = line[(colon + 1)...].drop(while: { $0 == 0x20 || $0 == 0x09 })
            guard !digits.isEmpty, digits.count <= 20, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let value = UInt64(String(decoding: digits, as: UTF8.self)) else { continue }
            out[name] = value
        }
        return out
    }
}
