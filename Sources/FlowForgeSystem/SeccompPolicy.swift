// FlowForge — the syscall allowlists of each sandboxed role. security/seccomp/*.allow mirror these lists
// (a test keeps them equal), with a line of why for each group.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys

/// A seccomp allowlist: a default action and rules, grouped with the reason each group exists.
public struct SeccompPolicy: Sendable {
    /// What a rule does with a matching call.
    public enum Action: String, Sendable {
        case allow
        case eperm = "errno-eperm"
        case enosys = "errno-enosys"
        case kill

        var shim: Int32 {
            switch self {
            case .allow: Int32(FFSYS_ACT_ALLOW)
            case .eperm: Int32(FFSYS_ACT_ERRNO_EPERM)
            case .enosys: Int32(FFSYS_ACT_ERRNO_ENOSYS)
            case .kill: Int32(FFSYS_ACT_KILL_PROCESS)
            }
        }
    }

    /// An argument condition a rule may carry.
    public enum Condition: String, Sendable {
        case none = ""
        case noProtExec = "if-no-prot-exec"
        case cloneThread = "if-clone-thread"
        case arg0IsSelf = "if-arg0-is-self"
        case openReadOnly = "if-read-only"
        case fcntlPlain = "if-fcntl-plain"
        case fcntlLocks = "if-fcntl-locks"
        case ioctlQuery = "if-ioctl-query"
        case targetSelf = "if-target-self"
        case noAddress = "if-no-address"
        case socketUnix = "if-socket-unix"

        var shim: Int32 {
            switch self {
            case .none: Int32(FFSYS_COND_NONE)
            case .noProtExec: Int32(FFSYS_COND_NO_PROT_EXEC)
            case .cloneThread: Int32(FFSYS_COND_CLONE_THREAD)
            case .arg0IsSelf: Int32(FFSYS_COND_ARG0_IS_SELF)
            case .openReadOnly: Int32(FFSYS_COND_OPEN_READ_ONLY)
            case .fcntlPlain: Int32(FFSYS_COND_FCNTL_PLAIN)
            case .fcntlLocks: Int32(FFSYS_COND_FCNTL_LOCKS)
            case .ioctlQuery: Int32(FFSYS_COND_IOCTL_QUERY)
            case .targetSelf: Int32(FFSYS_COND_TARGET_SELF)
            case .noAddress: Int32(FFSYS_COND_NO_ADDRESS)
            case .socketUnix: Int32(FFSYS_COND_SOCKET_UNIX)
            }
        }
    }

    /// One group of syscalls that share an action, a condition and a reason.
    public struct Group: Sendable {
        public let why: String
        public let action: Action
        public let condition: Condition
        public let syscalls: [String]
    }

    /// The role this policy is for (`reaper`, `detector`, `api`).
    public let role: String
    public let groups: [Group]

    /// Every call not listed kills the process (SIGSYS).
    public static let defaultAction = Action.kill

    /// The policy in the text form of `security/seccomp/<role>.allow`.
    public var allowFileText: String {
        var out = "# FlowForge seccomp policy for the \(role); default action: kill the process (SIGSYS).\n"
        out += "# Generated from Sources/FlowForgeSystem/SeccompPolicy.swift; a test keeps the two equal.\n"
        for g in groups {
            out += "\n# why: \(g.why)\n"
            let head = g.condition == .none ? g.action.rawValue : "\(g.action.rawValue) \(g.condition.rawValue)"
            out += head + ": " + g.syscalls.joined(separator: " ") + "\n"
        }
        return out
    }
}

extension SeccompPolicy {
    private static let memory = Group(
        why: "the allocator grows and shrinks the heap; mmap/mprotect never with PROT_EXEC (W^X)",
        action: .allow, condition: .none, syscalls: ["brk", "munmap", "mremap", "madvise", "futex", "getrandom"])
    private static let memoryNoExec = Group(
        why: "anonymous mappings for the allocator, never executable",
        action: .allow, condition: .noProtExec, syscalls: ["mmap", "mprotect"])
    private static let runtime = Group(
        why: "clocks, exit and the abort path of the Swift runtime",
        action: .allow, condition: .none,
        syscalls: ["clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "rt_sigprocmask", "rt_sigreturn",
                   "restart_syscall", "getpid", "gettid", "exit", "exit_group"])
    private static let selfSignal = Group(
        why: "abort() raises SIGABRT on itself; nothing else may be signalled",
        action: .allow, condition: .arg0IsSelf, syscalls: ["tgkill"])
    private static let refusedCalls = [
        "socket", "socketpair", "connect", "bind", "listen", "execve", "execveat", "clone", "fork", "vfork",
        "ptrace", "process_vm_readv", "process_vm_writev", "setuid", "setgid", "setreuid", "setregid",
        "setresuid", "setresgid", "setgroups", "capset", "prctl", "seccomp", "mount", "umount2", "unshare",
        "setns", "chroot", "pivot_root"]

    private static func refused(except allowed: Set<String> = []) -> Group {
        Group(why: "calls code might legitimately try: refuse them cleanly instead of killing",
              action: .eperm, condition: .none, syscalls: refusedCalls.filter { !allowed.contains($0) })
    }

    private static let refusedEverywhere = refused()
    private static let threadsRefused = Group(
        why: "clone3 flags sit in memory seccomp cannot read: ENOSYS makes glibc fall back to clone(2)",
        action: .enosys, condition: .none, syscalls: ["clone3"])

    /// The reaper: signals the worker's tree, relays its output, talks to its helpers. Opens nothing.
    public static let reaper = SeccompPolicy(role: "reaper", groups: [
        Group(why: "the event loop: poll the signalfd, pidfds, channels and output pipes; relay output (splice: pipe to pipe without copying)",
              action: .allow, condition: .none,
              syscalls: ["poll", "ppoll", "read", "write", "pwritev2", "readv", "writev", "recvmsg", "sendmsg", "close",
                         "pread64", "splice"]),
        Group(why: "the reaper's job: reap children, signal the worker's tree through pidfds (kill is the killpg fallback)",
              action: .allow, condition: .none, syscalls: ["waitid", "wait4", "pidfd_open", "pidfd_send_signal", "kill"]),
        memory, memoryNoExec, runtime, selfSignal,
        Group(why: "opening files is the spawner's job: the reaper holds pre-opened descriptors only",
              action: .eperm, condition: .none, syscalls: ["open", "openat", "openat2", "creat"]),
        refusedEverywhere, threadsRefused,
    ])

    /// The sampler/detector agent: reads /proc and cgroup statistics, talks only to the reaper.
    public static let detector = SeccompPolicy(role: "detector", groups: [
        Group(why: "the event loop over its channel to the reaper",
              action: .allow, condition: .none,
              syscalls: ["poll", "ppoll", "read", "write", "recvmsg", "sendmsg", "close", "pread64"]),
        Group(why: "sampling: read /proc/<pid>/stat of the worker's tree and the cgroup's cpu.stat",
              action: .allow, condition: .none, syscalls: ["newfstatat", "fstat", "lseek", "getdents64"]),
        Group(why: "opening those files, read-only: no write, create, truncate or append flag",
              action: .allow, condition: .openReadOnly, syscalls: ["openat"]),
        memory, memoryNoExec, runtime, selfSignal,
        Group(why: "signals are the reaper's job (kill(self) only, for abort)",
              action: .allow, condition: .arg0IsSelf, syscalls: ["kill"]),
        refusedEverywhere, threadsRefused,
    ])

    // The HTTP server's calls, shared by the API agent and the dashboard. Their listening socket is bound
    // before the filter (ListeningSocket, PreboundServer): neither may bind or listen, and only the dashboard
    // may make a socket, a unix one. fcntl, ioctl, sendto, socket, setpriority and prlimit64 carry argument
    // conditions (CFlowForgeSys/shim.c): their other forms could signal, renice or limit another process of
    // the same uid, inject terminal input, or reach a new address.
    private static let serverIO = Group(
        why: "its channel to the reaper and the HTTP connections",
        action: .allow, condition: .none,
        syscalls: ["poll", "ppoll", "read", "write", "readv", "writev", "recvmsg", "sendmsg", "recvfrom",
                   "close", "pread64", "accept4", "shutdown", "getsockopt", "setsockopt", "getsockname", "getpeername"])
    private static let sendConnected = Group(
        why: "sendto on connected sockets only (no destination address)",
        action: .allow, condition: .noAddress, syscalls: ["sendto"])
    private static let ioctlQueries = Group(
        why: "ioctl: isatty and readiness queries only; FIOSETOWN, SIOCSPGRP, FIOASYNC and TIOCSTI-like terminal calls refused",
        action: .allow, condition: .ioctlQuery, syscalls: ["ioctl"])
    private static let eventLoops = Group(
        why: "SwiftNIO's event loops: epoll, eventfd and timerfd",
        action: .allow, condition: .none,
        syscalls: ["epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd2",
                   "timerfd_create", "timerfd_settime"])
    private static let threads = Group(
        why: "threads (NIO event loops, the channel thread, Swift concurrency); clone only with CLONE_THREAD",
        action: .allow, condition: .cloneThread, syscalls: ["clone"])
    private static let threadRuntime = Group(
        why: "thread start-up and scheduling queries of the runtime",
        action: .allow, condition: .none,
        syscalls: ["set_robust_list", "rseq", "rt_sigaction", "rt_sigsuspend", "sigaltstack",
                   "getpriority", "getcpu", "sched_getaffinity", "sched_yield", "getrlimit",
                   "uname", "newfstatat", "fstat", "statx", "statfs", "fstatfs", "readlink", "lseek",
                   "sysinfo"])
    private static let ownPriority = Group(
        why: "the runtime renices its own threads and reads its own limits: pid 0 only, never another process",
        action: .allow, condition: .targetSelf, syscalls: ["setpriority", "prlimit64"])
    private static let killSelfOnly = Group(
        why: "signals are the reaper's job (kill(self) only, for abort)",
        action: .allow, condition: .arg0IsSelf, syscalls: ["kill"])

    /// The API agent: serves HTTP (SwiftNIO through Hummingbird) on the listening socket it bound before the
    /// filter, and talks to the reaper over its channel. It makes no socket of its own.
    public static let api = SeccompPolicy(role: "api", groups: [
        serverIO, sendConnected, ioctlQueries,
        Group(why: "fcntl: descriptor and status flags (never O_ASYNC) and dup; F_SETOWN, F_SETSIG, F_SETLEASE and F_NOTIFY refused",
              action: .allow, condition: .fcntlPlain, syscalls: ["fcntl"]),
        eventLoops, threads, threadRuntime, ownPriority,
        memory, memoryNoExec, runtime, selfSignal, killSelfOnly,
        Group(why: "libdispatch's thread pool reads /proc/<tid>/stat (and traps when it cannot): read-only opens only",
              action: .allow, condition: .openReadOnly, syscalls: ["openat"]),
        Group(why: "the API writes no files: its data comes over the channel",
              action: .eperm, condition: .none, syscalls: ["open", "openat2", "creat"]),
        refused(except: ["clone"]), threadsRefused,
    ])

    /// The dashboard: the API over the store. It keeps its user (it owns the state directory) but no
    /// capabilities, and may read and write files, serve HTTP on the socket it bound before the filter and
    /// connect to runs' control sockets; it may
    /// not execute programs, trace or signal other processes, or change identity.
    public static let dashboard = SeccompPolicy(role: "dashboard", groups: [
        serverIO, sendConnected, ioctlQueries,
        Group(why: "fcntl: as the API's, plus record locks (SQLite); F_SETOWN, F_SETSIG, F_SETLEASE and F_NOTIFY refused",
              action: .allow, condition: .fcntlLocks, syscalls: ["fcntl"]),
        Group(why: "the runs' unix control sockets only (TCP, UDP, netlink and packet sockets refused)",
              action: .allow, condition: .socketUnix, syscalls: ["socket"]),
        eventLoops, threads, threadRuntime, ownPriority,
        Group(why: "the store (SQLite in WAL mode) and the run spools in the state directory",
              action: .allow, condition: .none,
              syscalls: ["openat", "pwrite64", "fsync", "fdatasync", "ftruncate", "fallocate", "unlink", "unlinkat",
                         "rename", "renameat", "renameat2", "getdents64", "flock", "access", "faccessat", "faccessat2",
                         "getcwd", "lstat", "mkdir", "mkdirat", "fchmod", "fchown", "utimensat", "chmod",
                         "listxattr", "llistxattr", "flistxattr", "getxattr", "lgetxattr", "fgetxattr"]),
        Group(why: "asking live runs over their control sockets; identity queries and signal handling of the server",
              action: .allow, condition: .none,
              syscalls: ["connect", "socketpair", "getuid", "geteuid", "getgid", "getegid", "signalfd4", "rt_sigtimedwait"]),
        memory, memoryNoExec, runtime, selfSignal, killSelfOnly,
        refused(except: ["clone", "socket", "connect", "socketpair"]), threadsRefused,
    ])

    /// All policies, by role.
    public static let all: [SeccompPolicy] = [reaper, detector, api, dashboard]
}
