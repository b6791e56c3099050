// FlowForge — finding programs on PATH and exec'ing FlowForge's own executables.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeSystem

enum Executable {
    /// Resolves `name` like execvp would: a path with a slash as is, otherwise the first executable on PATH.
    static func resolve(_ name: String) -> String? {
        if name.contains("/") {
            guard FileIO.isExecutable(name) else { return nil }
            return name.hasPrefix("/") ? name : currentDirectory() + "/" + name
        }
        let path = ProcessEnvironment.value("PATH") ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let base = dir.isEmpty ? currentDirectory() : String(dir)
            let candidate = base + "/" + name
            if FileIO.isExecutable(candidate, regularFile: true) {
                return candidate.hasPrefix("/") ? candidate : currentDirectory() + "/" + candidate
            }
        }
        return nil
    }

    static func currentDirectory() -> String { ProcessEnvironment.currentDirectory() }

    /// `path` made absolute against the working directory.
    static func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : currentDirectory() + "/" + path }

    /// The directory holding the running `flowforge` binary (its siblings are the reaper and the agents).
    static func ownDirectory() -> String { ProcessEnvironment.executableDirectory() }

    /// Replaces this process with FlowForge's executable `name` from the same directory.
    static func execSibling(_ name: String, arguments: [String]) throws -> Never {
        let path = ownDirectory() + "/" + name
        let error = ProcessEnvironment.exec(path, arguments: [name] + arguments)
        throw ValidationError("cannot exec \(path): \(error)")
    }
}

enum RunID {
    /// A unique, unguessable run id: start time, PID and 32 random bits, e.g. `r20261129T223212-4711-9f3c07a2`.
    /// The random part keeps another local user from predicting (and planting something at) the run's spool
    /// and socket paths.
    static func make() -> String {
        let t = Clock.utc(Clock.wallSeconds())
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let hex = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let random = String(repeating: "0", count: 8 - hex.count) + hex
        return "r\(t.year)\(two(t.month))\(two(t.day))T\(two(t.hour))\(two(t.minute))\(two(t.second))-\(CurrentProcess.id)-\(random)"
    }
}
