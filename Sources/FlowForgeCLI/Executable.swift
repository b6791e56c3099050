// FlowForge — finding programs on PATH and exec'ing FlowForge's own executables.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeSystem
#if canImport(Glibc)
import Glibc
#endif

enum Executable {
    /// Resolves `name` like execvp would: a path with a slash as is, otherwise the first executable on PATH.
    static func resolve(_ name: String) -> String? {
        if name.contains("/") {
            guard access(name, X_OK) == 0 else { return nil }
            return name.hasPrefix("/") ? name : currentDirectory() + "/" + name
        }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let base = dir.isEmpty ? currentDirectory() : String(dir)
            let candidate = base + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate.hasPrefix("/") ? candidate : currentDirectory() + "/" + candidate
            }
        }
        return nil
    }

    static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "." }
        return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The directory holding the running `flowforge` binary (its siblings are the reaper and the agents).
    static func ownDirectory() -> String { ProcessEnvironment.executableDirectory() }

    /// Replaces this process with FlowForge's executable `name` from the same directory.
    static func execSibling(_ name: String, arguments: [String]) throws -> Never {
        let path = ownDirectory() + "/" + name
        let argv = [name] + arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cargs.append(nil)
        execv(path, cargs)
        let e = errno
        throw ValidationError("cannot exec \(path): \(SystemError("execv", errno: e))")
    }
}

enum RunID {
    /// A unique, unguessable run id: start time, PID and 32 random bits, e.g. `r20261129T223212-4711-9f3c07a2`.
    /// The random part keeps another local user from predicting (and planting something at) the run's spool
    /// and socket paths.
    static func make() -> String {
        var t = time(nil)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let y = Int(tmv.tm_year) + 1900
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let hex = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let random = String(repeating: "0", count: 8 - hex.count) + hex
        return "r\(y)\(two(tmv.tm_mon + 1))\(two(tmv.tm_mday))T\(two(tmv.tm_hour))\(two(tmv.tm_min))\(two(tmv.tm_sec))-\(getpid())-\(random)"
    }
}
