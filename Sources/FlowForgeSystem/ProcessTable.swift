// FlowForge — a snapshot of /proc/*/stat: who is whose child, and what each one has used.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// One process as `/proc/PID/stat` describes it.
public struct ProcessEntry: Sendable, Equatable {
    public var pid: Int32
    public var ppid: Int32
    public var pgid: Int32
    public var sid: Int32
    /// The one-letter state (R, S, D, Z, ...).
    public var state: Character
    /// utime + stime in clock ticks.
    public var cpuTicks: UInt64
    /// cutime + cstime: CPU of children this process waited for.
    public var reapedChildTicks: UInt64
    /// Start time in clock ticks since boot (identifies the process along with its pid).
    public var startTicks: UInt64
    /// Resident set in pages.
    public var rssPages: Int64

    /// Parses the text of a stat file. The command name may contain spaces and parentheses, so the fields
    /// are read after the last `)`.
    public init?(stat text: [UInt8]) {
        guard let close = text.lastIndex(of: UInt8(ascii: ")")), let open = text.firstIndex(of: UInt8(ascii: "(")),
              let pid = Int32(String(decoding: text[..<open], as: UTF8.self).trimmingCharacters(" ")) else { return nil }
        let rest = text[(close + 1)...].split(separator: UInt8(ascii: " "))
        // rest[0] is field 3 (state); field N is rest[N - 3].
        guard rest.count > 21 else { return nil }
        func field(_ n: Int) -> Int64 { Int64(String(decoding: rest[n - 3], as: UTF8.self)) ?? 0 }
        self.pid = pid
        self.state = Character(UnicodeScalar(rest[0].first ?? UInt8(ascii: "?")))
        self.ppid = Int32(truncatingIfNeeded: field(4))
        self.pgid = Int32(truncatingIfNeeded: field(5))
        self.sid = Int32(truncatingIfNeeded: field(6))
        self.cpuTicks = UInt64(max(0, field(14))) &+ UInt64(max(0, field(15)))
        // Children this process reaped count too (cutime + cstime), so a tree's total does not fall when a
        // short-lived child exits.
        self.reapedChildTicks = UInt64(max(0, field(16))) &+ UInt64(max(0, field(17)))
        self.startTicks = UInt64(max(0, field(22)))
        self.rssPages = field(24)
    }
}

extension ProcessEntry {
    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), the unit of the tick fields.
    public static var ticksPerSecond: UInt64 { UInt64(max(1, sysconf(Int32(_SC_CLK_TCK)))) }
    /// Bytes per page (`sysconf(_SC_PAGESIZE)`), the unit of `rssPages`.
    public static var pageSize: Int64 { Int64(max(1, sysconf(Int32(_SC_PAGESIZE)))) }
}

/// A snapshot of every process on the machine.
public struct ProcessTable: Sendable {
    public let entries: [Int32: ProcessEntry]

    public init(entries: [Int32: ProcessEntry]) { self.entries = entries }

    /// Reads every `/proc/<pid>/stat`. Processes that vanish mid-scan are skipped.
    public static func snapshot() -> ProcessTable {
        var entries: [Int32: ProcessEntry] = [:]
        guard let dir = opendir("/proc") else { return ProcessTable(entries: [:]) }
        defer { closedir(dir) }
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = Int32(name) else { continue }
            guard let bytes = FileIO.readFile("/proc/\(pid)/stat", limit: 4096), let e = ProcessEntry(stat: bytes) else { continue }
            entries[pid] = e
        }
        return ProcessTable(entries: entries)
    }

    /// The processes under `root` (not `root` itself, nor `excluded` and what is under them), found by
    /// walking `/proc/PID/task/TID/children` down from `root`: reads proportional to the tree, where
    /// `snapshot()` reads every process on the machine. Fifty runs sampling their trees every second with
    /// `snapshot()` read 50 x (every process of the fleet) stat files a second; this reads each run's own.
    ///
    /// - Note: the kernel's `children` lists are a live view: a process that forks or is reparented during
    ///   the walk can be missed once. Fine for a sample; teardown decides on `snapshot()`.
    /// - Returns: nil when `root`'s `children` lists cannot be read (a kernel without CONFIG_PROC_CHILDREN,
    ///   or `root` is gone): use `snapshot()`.
    public static func tree(of root: Int32, excluding excluded: Set<Int32> = [], limit: Int = 4096) -> ProcessTable? {
        guard let top = children(of: root) else { return nil }
        var entries: [Int32: ProcessEntry] = [:]
        var stack = top.filter { !excluded.contains($0) }
        while let pid = stack.popLast(), entries.count < limit {
            guard entries[pid] == nil,
                  let bytes = FileIO.readFile("/proc/\(pid)/stat", limit: 4096), let e = ProcessEntry(stat: bytes) else { continue }
            entries[pid] = e
            stack += (children(of: pid) ?? []).filter { !excluded.contains($0) }
        }
        return ProcessTable(entries: entries)
    }

    /// The children of every thread of `pid` (a child belongs to the thread that forked it); nil when no
    /// thread's list could be read.
    static func children(of pid: Int32) -> [Int32]? {
        guard let dir = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(dir) }
        var result: [Int32] = []
        var readable = false
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let tid = Int32(name), let text = FileIO.readFile("/proc/\(pid)/task/\(tid)/children", limit: 1 << 16) else { continue }
            readable = true
            result += text.split(separator: UInt8(ascii: " ")).compactMap { Int32(String(decoding: $0, as: UTF8.self)) }
        }
        return readable ? result : nil
    }

    /// Every descendant of `root` (not `root` itself), found by following parent links.
    public func descendants(of root: Int32, excluding excluded: Set<Int32> = []) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for e in entries.values { children[e.ppid, default: []].append(e.pid) }
        var result: [Int32] = []
        var stack = (children[root] ?? []).filter { !excluded.contains($0) }
        while let pid = stack.popLast() {
            result.append(pid)
            stack.append(contentsOf: (children[pid] ?? []).filter { !excluded.contains($0) })
        }
        return result
    }
}

extension String {
    func trimmingCharacters(_ c: Character) -> String {
        var s = Substring(self)
        while s.first == c { s = s.dropFirst() }
        while s.last == c { s = s.dropLast() }
        return String(s)
    }
}
