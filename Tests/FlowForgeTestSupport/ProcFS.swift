// FlowForge — test support: processes as /proc shows them, and the marker that finds a test's tree.
// SPDX-License-Identifier: Apache-2.0
import Foundation

/// The environment variable that tags every process a test, drill or bench starts.
///
/// Tests put `FLOWFORGE_DRILL_MARKER=<unique>` into FlowForge's environment (the reaper, its spawner and the
/// worker tree inherit it; the agents get a fixed environment and do not), then find what is left by scanning
/// `/proc/PID/environ` for that exact entry: by marker, never by name. The shell side is `scripts/lib/proc.sh`.
public enum Marker {
    public static let variable = "FLOWFORGE_DRILL_MARKER"

    /// A fresh marker, `<prefix>-<random>`.
    public static func make(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }

    /// `[variable: marker]`, to merge into a process's environment.
    public static func environment(_ marker: String) -> [String: String] { [variable: marker] }
}

/// A process's argv, from `/proc/PID/cmdline` (empty when it is gone).
public func cmdline(_ pid: Int32) -> [String] {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
    return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
}

/// The direct children of `pid` (its main thread's `children` list).
public func childProcesses(of pid: Int32) -> [Int32] {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else { return [] }
    return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

/// Whether `pid` exists and is neither a zombie nor dead.
public func isAlive(_ pid: Int32) -> Bool {
    guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
    guard let close = s.lastIndex(of: ")"), s.distance(from: close, to: s.endIndex) > 2 else { return false }
    let state = s[s.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// Live processes whose environment holds exactly `name=value`.
public func processes(withEnvironment name: String, _ value: String) -> [Int32] {
    let needle = Data((name + "=" + value).utf8)
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard isAlive(pid), let env = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
        return env.split(separator: 0).contains { Data($0) == needle }
    }
}

/// Live processes carrying `marker` (see `Marker`).
public func processes(withMarker marker: String) -> [Int32] {
    processes(withEnvironment: Marker.variable, marker)
}

/// SIGKILLs every live process carrying `marker`: the test's own tree only.
public func killMarked(_ marker: String) {
    for pid in processes(withMarker: marker) { kill(pid, SIGKILL) }
}
