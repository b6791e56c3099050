// FlowForge — facts about the running process: its environment, its executable, debug-only test switches.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// The running process's environment and executable, without Foundation.
public enum ProcessEnvironment {
    /// `environ` as `KEY=VALUE` strings.
    public static func current() -> [String] {
        var env: [String] = []
        var p = environ
        while let entry = p.pointee {
            env.append(String(cString: entry))
            p += 1
        }
        return env
    }

    /// The value of environment variable `name`, nil when it is not set.
    public static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// Sets environment variable `name` to `value` (setenv), unless it is set and `overwrite` is false.
    public static func set(_ name: String, to value: String, overwrite: Bool = true) {
        setenv(name, value, overwrite ? 1 : 0)
    }

    /// The working directory (getcwd), "." when it cannot be read.
    public static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return "." }
        return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Makes `path` the working directory (chdir).
    ///
    /// - Throws: `SystemError` naming the path.
    public static func changeDirectory(_ path: String) throws(SystemError) {
        _ = try sys("chdir \(path)") { chdir(path) }
    }

    /// Replaces this process with `path` (execv), `arguments` as its argv (the program name included), this
    /// environment, and every descriptor not close-on-exec.
    ///
    /// - Returns: only when execv failed: the error.
    public static func exec(_ path: String, arguments: [String]) -> SystemError {
        withCStrings(arguments) { argv in _ = execv(path, argv) }
        return SystemError("execv", errno: errno)
    }

    /// Removes `name` from the environment and overwrites its value where it was, so that not even the
    /// process's initial environment block (what `/proc/PID/environ` shows) holds it any more.
    public static func scrub(_ name: String) {
        let prefix = name + "="
        var p = environ
        while let entry = p.pointee {
            if strncmp(entry, prefix, prefix.utf8.count) == 0 {
                let value = entry + prefix.utf8.count
                memset(value, 0, strlen(value))
            }
            p += 1
        }
        unsetenv(name)
    }

    /// The directory of `/proc/self/exe` (FlowForge's executables live side by side).
    public static func executableDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return "." }
        let path = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
    }

    /// Whether the comma-separated environment variable `name` lists `value`.
    ///
    /// - Important: test switches only. Callers compile the call inside `#if DEBUG`, so release builds never
    ///   read these variables.
    public static func list(_ name: String, contains value: String) -> Bool {
        guard let raw = getenv(name) else { return false }
        return String(cString: raw).split(separator: ",").contains { $0 == value }
    }
}
