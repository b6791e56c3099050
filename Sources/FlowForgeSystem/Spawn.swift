// FlowForge — starting processes through the C shim's async-signal-safe clone3 path.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys
#if canImport(Glibc)
import Glibc
#endif

/// What a new process gets: its program, arguments, environment, descriptors and identity.
public struct SpawnSpec: Sendable {
    public var path: String
    public var arguments: [String]
    public var environment: [String]
    /// `fdMap[i]` becomes descriptor `i` in the new process; everything else is closed at exec.
    public var fdMap: [Int32]
    public var newSession = true
    /// The cgroup to start in (`CLONE_INTO_CGROUP`); `cgroupProcsFD` is the fallback join when the kernel refuses.
    public var cgroupDirectoryFD: Int32 = -1
    public var cgroupProcsFD: Int32 = -1
    public var parentDeathSignal: Signal? = .kill
    public var expectedParent: Int32 = 0
    public var identity: (uid: UInt32, gid: UInt32)?

    public init(path: String, arguments: [String], environment: [String], fdMap: [Int32]) {
        self.path = path
        self.arguments = arguments
        self.environment = environment
        self.fdMap = fdMap
    }
}

/// A started process: its PID and a pidfd that pins it.
public struct SpawnedProcess: Sendable {
    public let pid: Int32
    public let pidfd: Int32
}

/// Process creation. Only the spawner (before any filter) and the reaper's first spawn call this.
public enum Spawn {
    /// Creates the process as a child of the caller's parent (`clone3(CLONE_PARENT)`), so a helper forked
    /// before the reaper's sandbox can start unsandboxed children that the reaper itself owns and reaps.
    public static func sibling(_ spec: SpawnSpec) throws -> SpawnedProcess {
        try start(spec, sibling: true)
    }

    /// Creates the process as the caller's own child.
    public static func child(_ spec: SpawnSpec) throws -> SpawnedProcess {
        try start(spec, sibling: false)
    }

    private static func start(_ spec: SpawnSpec, sibling: Bool) throws -> SpawnedProcess {
        var pidfd: Int32 = -1
        let pid: Int32 = withCStrings(spec.arguments) { argv in
            withCStrings(spec.environment) { envp in
                spec.fdMap.withUnsafeBufferPointer { fds in
                    spec.path.withCString { path in
                        var c = ffsys_spawn_spec()
                        c.path = path
                        c.argv = argv
                        c.envp = envp
                        c.fd_map = fds.baseAddress
                        c.fd_count = Int32(fds.count)
                        c.new_session = spec.newSession ? 1 : 0
                        c.cgroup_dir_fd = spec.cgroupDirectoryFD
                        c.cgroup_procs_fd = spec.cgroupProcsFD
                        c.pdeathsig = spec.parentDeathSignal?.rawValue ?? 0
                        c.expected_parent = spec.expectedParent
                        if let id = spec.identity {
                            c.set_ids = 1
                            c.uid = id.uid
                            c.gid = id.gid
                        }
                        return sibling ? ffsys_spawn_sibling(&c, &pidfd) : ffsys_spawn_child(&c, &pidfd)
                    }
                }
            }
        }
        if pid < 0 { throw SystemError("spawn \(spec.path)", errno: errno) }
        return SpawnedProcess(pid: pid, pidfd: pidfd)
    }
}

/// Calls `body` with a NULL-terminated `char *const *` array of `strings`, valid only inside `body`.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for p in pointers { free(p) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
