// FlowForge — the calling process: its ids, its exit, and the prctl switches FlowForge sets on itself.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys
#if canImport(Glibc)
import Glibc
#endif

/// The calling process, so that modules above FlowForgeSystem need no libc for `getpid` and friends.
public enum CurrentProcess {
    /// getpid().
    public static var id: Int32 { getpid() }
    /// getppid(): the parent (PID 1 or a subreaper once the parent died).
    public static var parentID: Int32 { getppid() }
    /// getpgrp(): the process group.
    public static var groupID: Int32 { getpgrp() }
    /// geteuid().
    public static var effectiveUserID: UInt32 { geteuid() }
    /// getuid().
    public static var realUserID: UInt32 { getuid() }
    /// getgid().
    public static var realGroupID: UInt32 { getgid() }
    /// getegid().
    public static var effectiveGroupID: UInt32 { getegid() }
    /// This process's PID namespace: the inode of `/proc/self/ns/pid` (0 when it cannot be read).
    public static var pidNamespace: UInt64 {
        var st = stat()
        return stat("/proc/self/ns/pid", &st) == 0 ? UInt64(st.st_ino) : 0
    }

    /// Ends the process with `code` after the C runtime's exit handlers (exit(3)).
    public static func exit(_ code: Int32) -> Never { Glibc.exit(code) }

    /// Makes orphaned descendants reparent to this process instead of to init (PR_SET_CHILD_SUBREAPER).
    ///
    /// - Throws: `SystemError`.
    public static func becomeChildSubreaper() throws(SystemError) {
        _ = try sys("prctl(PR_SET_CHILD_SUBREAPER)") { ffsys_set_child_subreaper() }
    }

    /// Sets PR_SET_DUMPABLE: not dumpable, a process of the same uid can neither ptrace it nor read its
    /// /proc files. An exec makes the new program dumpable again.
    ///
    /// - Throws: `SystemError`.
    public static func setDumpable(_ on: Bool) throws(SystemError) {
        _ = try sys("prctl(PR_SET_DUMPABLE)") { ffsys_set_dumpable(on ? 1 : 0) }
    }
}
