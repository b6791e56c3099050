// FlowForge — resolving user and group names for --agent-user, --user and --group.
// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif

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
}
