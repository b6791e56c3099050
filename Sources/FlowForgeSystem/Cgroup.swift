// FlowForge — finding a writable cgroup v2 hierarchy and making per-generation worker cgroups in it.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

/// A cgroup v2 directory that FlowForge created for one worker generation.
public struct Cgroup: Sendable {
    /// Absolute path of the directory.
    public let path: String
    /// True when this process made the directory (false: it already existed).
    public var created = false

    /// The cgroup at `path` (made elsewhere: `create(named:under:)` makes one).
    public init(path: String, created: Bool = false) {
        self.path = path
        self.created = created
    }

    /// Finds the cgroup2 mount from `/proc/self/mountinfo`: `/sys/fs/cgroup` on a pure v2 host, or the
    /// `unified` mount beside cgroup v1 on a hybrid one. Never assumes either.
    public static func cgroup2Mount() -> String? {
        guard let text = FileIO.readText("/proc/self/mountinfo") else { return nil }
        for line in text.split(separator: "\n") {
            // "<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <fstype> <source> <super>"
            let parts = line.split(separator: " ")
            guard let dash = parts.firstIndex(of: "-"), dash + 1 < parts.count, parts.count > 4 else { continue }
            if parts[dash + 1] == "cgroup2" { return unescapeMountPath(String(parts[4])) }
        }
        return nil
    }

    /// This process's own cgroup v2 path (the `0::` line of /proc/self/cgroup).
    public static func ownCgroupPath() -> String? {
        guard let text = FileIO.readText("/proc/self/cgroup") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3))
        }
        return nil
    }

    /// The directory under which worker cgroups are made: beside our own cgroup's children.
    public static func parentDirectory() -> String? {
        guard let mount = cgroup2Mount(), let own = ownCgroupPath() else { return nil }
        // A process may sit in a cgroup whose path is not visible in this mount namespace ("/.." prefixes).
        if own.contains("/..") { return nil }
        return own == "/" ? mount : mount + own
    }

    /// Creates `<parent>/<name>`. Returns nil when cgroups are not writable here (not root, no delegation).
    public static func create(named name: String, under parent: String) -> Cgroup? {
        let path = parent + "/" + name
        if mkdir(path, 0o755) == 0 { return Cgroup(path: path, created: true) }
        return errno == EEXIST ? Cgroup(path: path) : nil
    }

    /// Opens the directory itself, for `clone3(CLONE_INTO_CGROUP)`. -1 on failure.
    public func openDirectory() -> Int32 {
        Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }

    /// Opens one of the cgroup's control files.
    public func open(_ file: String, write: Bool) -> Int32 {
        Glibc.open(path + "/" + file, (write ? O_WRONLY : O_RDONLY) | O_CLOEXEC)
    }

    /// Kills everything in the cgroup atomically (`cgroup.kill`, Linux >= 5.14) and removes the directory,
    /// retrying while the kernel finishes tearing the members down. Returns true when the directory is gone.
    @discardableResult
    public func killAndRemove(timeoutNanos: UInt64 = 2_000_000_000, kill: Bool = true) -> Bool {
        let fd = kill ? open("cgroup.kill", write: true) : -1
        if fd >= 0 {
            // Checked by the removal below: a cgroup whose members survive never empties, and that is reported.
            _ = try? Cgroup.kill(throughKillFD: fd)
            FileIO.close(fd)
        }
        let deadline = Clock.monotonicNanos() &+ timeoutNanos
        while true {
            if rmdir(path) == 0 || errno == ENOENT { return true }
            if Clock.monotonicNanos() > deadline { return false }
            usleep(5_000)
        }
    }

    /// Writes "1" to a pre-opened `cgroup.kill` descriptor: SIGKILL to every member at once, forks in flight
    /// included (Linux >= 5.14). An empty cgroup is no error.
    ///
    /// - Throws: `SystemError` (ENODEV: the cgroup was removed meanwhile).
    public static func kill(throughKillFD fd: Int32) throws(SystemError) {
        _ = try sys("write cgroup.kill") { Glibc.write(fd, "1", 1) }
    }

    /// Sets `memory.high` (the kernel throttles and reclaims above it instead of killing) when the cgroup has
    /// the memory controller; false when it has not (no `memory.high` file: a hybrid hierarchy whose memory
    /// controller is on cgroup v1, or the parent does not delegate it) or the write failed.
    @discardableResult
    public func setMemoryHigh(bytes: UInt64) -> Bool {
        let fd = open("memory.high", write: true)
        guard fd >= 0 else { return false }
        defer { FileIO.close(fd) }
        return (try? FileIO.writeAll(fd, "\(bytes)\n")) != nil
    }

    /// The value of `key` in a cgroup's flat-keyed file (`cpu.stat`'s `usage_usec`, `memory.events`'
    /// `oom_kill`: how many of its processes the kernel's OOM killer killed).
    public static func flatKeyed(_ key: String, in text: String) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix(key + " ") {
            return UInt64(line.dropFirst(key.count + 1))
        }
        return nil
    }

    /// The PIDs currently in the cgroup, read through a pre-opened `cgroup.procs` descriptor.
    public static func pids(procsFD: Int32) -> [Int32] {
        guard let bytes = FileIO.preadAll(procsFD, limit: 1 << 20) else { return [] }
        return bytes.split(separator: UInt8(ascii: "\n")).compactMap { Int32(String(decoding: $0, as: UTF8.self)) }
    }

    /// The name of a worker generation's cgroup: `flowforge-<pid namespace>-<reaper pid>-g<generation>`. The
    /// PID namespace (the inode of `/proc/self/ns/pid`) is part of it because a reaper PID means nothing in
    /// another namespace: a FlowForge in a container that shares the cgroup hierarchy (`unshare --pid` without
    /// `--cgroup`) saw the host's reapers as dead owners and swept their live workers' cgroups.
    public static func workerName(reaperPID: Int32, generation: UInt32) -> String {
        "\(ownerPrefix)\(reaperPID)-g\(generation)"
    }

    /// `flowforge-<pid namespace>-`: the names this PID namespace's reapers own (the only ones it sweeps).
    public static var ownerPrefix: String { "flowforge-\(CurrentProcess.pidNamespace)-" }

    /// Removes stale `flowforge-*` cgroups left by a FlowForge that was SIGKILLed (their owner is gone).
    /// `prefix` must name this PID namespace (`ownerPrefix`): an owner PID is only checked where it means
    /// something; names of other namespaces, and older names without one, are left alone.
    public static func sweepStale(under parent: String, prefix: String, isOwnerAlive: (Int32) -> Bool) {
        guard let dir = opendir(parent) else { return }
        var stale: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafeBytes(of: ent.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            // <prefix><reaper pid>-g<generation>
            guard name.hasPrefix(prefix) else { continue }
            let rest = name.dropFirst(prefix.count)
            guard let dashG = rest.firstIndex(of: "-"), let owner = Int32(rest[..<dashG]) else { continue }
            if !isOwnerAlive(owner) { stale.append(name) }
        }
        closedir(dir)
        for name in stale { Cgroup(path: parent + "/" + name).killAndRemove() }
    }
}

private func unescapeMountPath(_ s: String) -> String {
    // mountinfo escapes space, tab, newline and backslash as \ooo octal.
    guard s.contains("\\") else { return s }
    var out: [UInt8] = []
    let b = Array(s.utf8)
    var i = 0
    while i < b.count {
        if b[i] == UInt8(ascii: "\\"), i + 3 < b.count, let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
            out.append(v)
            i += 4
        } else {
            out.append(b[i])
            i += 1
        }
    }
    return String(decoding: out, as: UTF8.self)
}
