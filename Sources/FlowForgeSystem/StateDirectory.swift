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

    /// Creates the directory (and `runs/`) with mode 0700 if missing, then refuses either one unless it is a
    /// real directory (not a symlink) owned by us and writable by nobody else: FlowForge (perhaps as root,
    /// perhaps through `sudo -E` keeping a user's HOME) writes spools and sockets there, and another user able
    /// to plant files in it could redirect those writes. Returns the path or throws.
    @discardableResult
    public static func ensure(owner: uid_t? = nil) throws -> String {
        let base = path()
        var partial = ""
        for component in base.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o700) != 0 && errno != EEXIST { throw SystemError("mkdir \(partial)", errno: errno) }
        }
        try checkPrivate(base, owner: owner)
        if mkdir(base + "/runs", 0o700) != 0 && errno != EEXIST { throw SystemError("mkdir \(base)/runs", errno: errno) }
        if let owner, owner != geteuid() { _ = lchown(base + "/runs", owner, gid_t.max) } // fresh, or already the owner's
        try checkPrivate(base + "/runs", owner: owner)
        return base
    }

    /// Throws unless `dir` is a directory (not a symlink) owned by the effective uid (or by `owner`, the
    /// state directory's declared owner: `FLOWFORGE_STATE_OWNER`) and not writable by group or others.
    public static func checkPrivate(_ dir: String, owner: uid_t? = nil) throws {
        var st = stat()
        guard lstat(dir, &st) == 0 else { throw SystemError("state directory \(dir)", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw SystemError("state directory \(dir) is not a directory (a symlink?); refusing to keep state there", errno: ENOTDIR)
        }
        guard st.st_uid == geteuid() || st.st_uid == owner else {
            throw SystemError("state directory \(dir) belongs to uid \(st.st_uid), not to uid \(geteuid())\(owner.map { " or the declared owner \($0)" } ?? ""); refusing to keep state there (set FLOWFORGE_STATE_DIR to a directory of your own, or FLOWFORGE_STATE_OWNER to its owner)", errno: EPERM)
        }
        guard st.st_mode & 0o022 == 0 else {
            throw SystemError("state directory \(dir) is writable by others (mode \(String(st.st_mode & 0o777, radix: 8))); refusing to keep state there (chmod 700 it)", errno: EPERM)
        }
    }

    /// Creates `name` in `dir` for appending, mode 0600, never through a symlink and never an existing file
    /// (O_NOFOLLOW | O_EXCL relative to a descriptor of the checked directory), and gives it to `owner` when
    /// that is not us (root handing a run's spool to the dashboard's user). Returns the descriptor.
    public static func createPrivateFile(in dir: String, name: String, owner: uid_t? = nil) throws -> Int32 {
        guard !name.contains("/"), name != "..", name != "." else { throw SystemError("bad file name \(name)", errno: EINVAL) }
        let dirFD = try sys("open \(dir)") { open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) }
        defer { close(dirFD) }
        let fd = try sys("create \(dir)/\(name)") {
            openat(dirFD, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0o600)
        }
        if let owner, owner != geteuid() {
            do { _ = try sys("chown \(dir)/\(name) to uid \(owner)") { fchown(fd, owner, gid_t.max) } } catch {
                close(fd)
                throw error
            }
        }
        return fd
    }

    /// The file name of segment `segment` of a run's spool: `<run id>.jsonl`, then `<run id>.2.jsonl`, ...
    /// (a long run's spool is rotated at a size limit; segments are never renamed).
    public static func spoolName(runID: String, segment: UInt32) -> String {
        segment <= 1 ? "\(runID).jsonl" : "\(runID).\(segment).jsonl"
    }

    /// The run id and segment a spool file name stands for (nil: not a spool's name).
    public static func spoolSegment(ofName name: String) -> (runID: String, segment: UInt32)? {
        guard name.hasSuffix(".jsonl") else { return nil }
        let stem = name.dropLast(6)
        if let dot = stem.lastIndex(of: "."), let n = UInt32(stem[stem.index(after: dot)...]), n >= 2 {
            return (String(stem[..<dot]), n)
        }
        return stem.isEmpty ? nil : (String(stem), 1)
    }

    public static var keyFile: String { path() + "/api.key" }

    /// The API key: `FLOWFORGE_API_KEY`, else the key file, which must be a regular file of mode 0600 owned by
    /// us (or by the state directory's declared owner).
    public static func apiKey(owner: uid_t? = nil) throws -> String? {
        if let raw = getenv("FLOWFORGE_API_KEY"), raw.pointee != 0 { return String(cString: raw) }
        var st = stat()
        guard stat(keyFile, &st) == 0 else { return nil }
        guard (st.st_mode & S_IFMT) == S_IFREG, st.st_mode & 0o077 == 0, st.st_uid == geteuid() || st.st_uid == owner else {
            throw SystemError("\(keyFile) must be a regular file of mode 0600 owned by uid \(geteuid())", errno: EPERM)
        }
        guard let bytes = FileIO.readFile(keyFile, limit: 4096) else { return nil }
        let key = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == " " }).first.map(String.init)
        return (key?.isEmpty ?? true) ? nil : key
    }
}
