// FlowForge — resolving user and group names for --agent-user, --user and --group.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeSystem
// getpwnam and getgrnam through Foundation's libc, not FlowForgeSystem: NSS must stay out of the static
// reaper, which links all of FlowForgeSystem.
import Foundation

/// Name lookups happen here, in the CLI, and the reaper is handed numeric ids: the reaper is a static
/// executable, and glibc's NSS (getpwnam) needs shared libraries at run time.
enum Accounts {
    /// A user name or numeric uid; a numeric uid doubles as the gid. Nil when unknown.
    static func user(_ name: String) -> (uid: UInt32, gid: UInt32)? {
        if let uid = UInt32(name) { return (uid, uid) }
        guard let pw = getpwnam(name) else { return nil }
        return (pw.pointee.pw_uid, pw.pointee.pw_gid)
    }

    /// A group name or numeric gid. Nil when unknown.
    static func group(_ name: String) -> UInt32? {
        if let gid = UInt32(name) { return gid }
        return getgrnam(name)?.pointee.gr_gid
    }

    /// The state directory's declared owner, `FLOWFORGE_STATE_OWNER` (a user name or uid), when it is not us:
    /// a root `flowforge run` then keeps state in a directory that user owns (the dashboard's service user)
    /// and hands it the spools and sockets it creates. Only root can hand files to someone else.
    static func stateOwner() throws -> uid_t? {
        guard let raw = ProcessEnvironment.value("FLOWFORGE_STATE_OWNER"), !raw.isEmpty else { return nil }
        guard let owner = user(raw) else { throw ValidationError("FLOWFORGE_STATE_OWNER: no such user '\(raw)'") }
        if owner.uid == CurrentProcess.effectiveUserID { return nil }
        guard CurrentProcess.effectiveUserID == 0 else {
            throw ValidationError("FLOWFORGE_STATE_OWNER=\(raw) needs FlowForge to run as root (only root can hand files to another user)")
        }
        return owner.uid
    }
}
