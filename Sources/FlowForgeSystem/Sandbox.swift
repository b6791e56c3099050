// FlowForge — dropping privileges and entering a seccomp filter, in the order that makes each step hold.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys
#if canImport(Glibc)
import Glibc
#endif

/// Privilege dropping for FlowForge's own processes.
///
/// - Important: call these before any thread exists. Capabilities and (without TSYNC) NNP are per-thread; a
///   thread started earlier keeps its privileges.
public enum Sandbox {
    /// CAP_KILL, the one capability a root reaper keeps: it may signal a worker that runs as another user.
    public static let capKill: Int32 = 5

    /// Whether seccomp violations kill (production) or are only logged to the audit log (measurement).
    public enum Enforcement: Sendable { case kill, log }

    /// The reaper: bounding set emptied, ambient cleared, P=E={CAP_KILL} when root (else nothing),
    /// not dumpable, no-new-privs, then its filter.
    public static func enterReaper(enforcement: Enforcement = .kill) throws {
        if geteuid() == 0 {
            _ = try sys("drop bounding set") { ffsys_drop_bounding_set() }
            _ = try sys("clear ambient") { ffsys_clear_ambient_caps() }
            var caps = [capKill]
            _ = try sys("cap_set_proc") { ffsys_set_caps_only(&caps, 1) }
        }
        try lockDown(policy: .reaper, enforcement: enforcement)
    }

    /// An agent: when root, switch to `uid`/`gid` with no groups and no capabilities left anywhere; then
    /// no-new-privs and its filter. When not root it keeps its uid and still gets the filter. Root of a user
    /// namespace whose `setgroups` is denied keeps its supplementary groups (it cannot change them); the CLI
    /// then passes the namespace's own uid and gid (see ``UserNamespace``).
    public static func enterAgent(policy: SeccompPolicy, uid: UInt32, gid: UInt32, parentDeathSignal: Signal? = .kill,
                                  expectedParent: Int32 = getppid(), enforcement: Enforcement = .kill) throws {
        // Capabilities are per thread: a thread started before this point would keep them. Refuse to go on.
        if let status = ProcStatus.read(pid: getpid()), status.threads != 1 {
            throw SystemError("\(status.threads) threads exist before the sandbox (privileges are per thread)", errno: EBUSY)
        }
        if geteuid() == 0 {
            if UserNamespace.current().setgroupsAllowed { _ = try sys("setgroups") { ffsys_setgroups_empty() } }
            _ = try sys("setresgid") { ffsys_setresgid(gid) }
            _ = try sys("drop bounding set") { ffsys_drop_bounding_set() }
            _ = try sys("clear ambient") { ffsys_clear_ambient_caps() }
            _ = try sys("setresuid") { ffsys_setresuid(uid) }
            _ = try sys("cap_set_proc") { ffsys_set_caps_only(nil, 0) }
            if uid != 0 && setuid(0) == 0 { throw SystemError("setuid(0) still works after the drop", errno: EPERM) }
        }
        // A credential change clears PDEATHSIG: set it again, then make sure the parent did not die meanwhile.
        if let signal = parentDeathSignal {
            _ = try sys("PR_SET_PDEATHSIG") { ffsys_set_pdeathsig(signal.rawValue) }
            if getppid() != expectedParent { throw SystemError("parent exited before the sandbox was up", errno: ESRCH) }
        }
        try lockDown(policy: policy, enforcement: enforcement)
    }

    /// The dashboard: keeps its uid (it owns the state directory and the runs' 0600 control sockets), drops
    /// every capability (bounding set included), then no-new-privs and its filter.
    public static func enterDashboard(enforcement: Enforcement = .kill) throws {
        if let status = ProcStatus.read(pid: getpid()), status.threads != 1 {
            throw SystemError("\(status.threads) threads exist before the sandbox (privileges are per thread)", errno: EBUSY)
        }
        if geteuid() == 0 {
            _ = try sys("drop bounding set") { ffsys_drop_bounding_set() }
            _ = try sys("clear ambient") { ffsys_clear_ambient_caps() }
            _ = try sys("cap_set_proc") { ffsys_set_caps_only(nil, 0) }
        }
        try lockDown(policy: .dashboard, enforcement: enforcement)
    }

    /// Not dumpable, no-new-privs, then the filter (TSYNC).
    public static func lockDown(policy: SeccompPolicy, enforcement: Enforcement) throws {
        _ = try sys("PR_SET_DUMPABLE") { ffsys_set_dumpable(0) }
        _ = try sys("PR_SET_NO_NEW_PRIVS") { ffsys_set_no_new_privs() }
        try install(policy, enforcement: enforcement)
    }

    /// Builds and loads `policy`.
    public static func install(_ policy: SeccompPolicy, enforcement: Enforcement) throws {
        let defaultAction = enforcement == .kill ? Int32(FFSYS_ACT_KILL_PROCESS) : Int32(FFSYS_ACT_LOG)
        guard let ctx = ffsys_seccomp_new(defaultAction) else { throw SystemError("seccomp_init", errno: ENOMEM) }
        for group in policy.groups {
            for name in group.syscalls {
                let rc = ffsys_seccomp_rule(ctx, name, group.action.shim, group.condition.shim)
                // An unknown name on this architecture is skipped (e.g. a syscall this kernel does not have).
                if rc < 0 && rc != -ENOENT {
                    ffsys_seccomp_release(ctx)
                    throw SystemError("seccomp_rule_add(\(name))", errno: -rc)
                }
            }
        }
        let rc = ffsys_seccomp_load(ctx)
        if rc < 0 { throw SystemError("seccomp_load", errno: -rc) }
    }

    /// A test-only probe: performs a call no FlowForge policy allows.
    public static func attemptForbiddenSyscall() -> Int32 { ffsys_forbidden_syscall() }

    /// Test-only: makes the descriptors `probe` acts on (call before the filter).
    public static func prepareProbe() -> Int32 { ffsys_probe_prepare() }

    /// Test-only: performs one argument-checked call by name (`fcntl-setown`, `sendto-address`, ...; see
    /// CFlowForgeSys/shim.c); 0 when the kernel carried it out, else its errno. A call the filter kills
    /// for never returns.
    public static func probe(_ call: String) -> Int32 { ffsys_probe_call(call) }
}
