// FlowForge — the state directory: run spools, the API key file, the dashboard's store and pid file.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// Where FlowForge keeps state: `$FLOWFORGE_STATE_DIR`, else `~/.local/state/flowforge`.
public enum StateDirectory {
    public static func path() -> String {
        if let raw = getenv("FLOWFORGE_STATE_DIR"), raw.pointee != 0 { return String(cString: raw) }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/root"
        return home + "/.local/state/flowforge"
    }

    /// Creates the directory (and `runs/`) with mode 0700 if missing. Returns the path or throws.
    @discardableResult
    public static func ensure() throws -> String {
        let base = path()
        var partial = ""
        for component in base.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o700) != 0 && errno != EEXIST { throw SystemError("mkdir \(partial)", errno: errno) }
        }
        if mkdir(base + "/runs", 0o700) != 0 && errno != EEXIST { throw SystemError("mkdir \(base)/runs", errno: errno) }
        return base
    }

    public static var keyFile: String { path() + "/api.key" }

    /// The API key: `FLOWFORGE_API_KEY`, else the key file, which must be a regular file of mode 0600 owned by us.
    public static func apiKey() throws -> String? {
        if let raw = getenv("FLOWFORGE_API_KEY"), raw.pointee != 0 { return String(cString: raw) }
        var st = stat()
        guard stat(keyFile, &st) == 0 else { return nil }
        guard (st.st_mode & S_IFMT) == S_IFREG, st.st_mode & 0o077 == 0, st.st_uid == geteuid() else {
            throw SystemError("\(keyFile) must be a regular file of mode 0600 owned by uid \(geteuid())", errno: EPERM)
        }
        guard let bytes = FileIO.readFile(keyFile, limit: 4096) else { return nil }
        let key = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init)
        return (key?.isEmpty ?? true) ? nil : key
    }
}
