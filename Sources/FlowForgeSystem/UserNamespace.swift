// FlowForge — the user namespace this process runs in: which ids it maps and whether setgroups is allowed.
// SPDX-License-Identifier: Apache-2.0

/// What `/proc/self/uid_map`, `gid_map` and `setgroups` say about this process's user namespace.
///
/// A container started rootless (`unshare --user --map-root-user`, rootless Podman without subordinate ids)
/// makes FlowForge uid 0 of a namespace that maps only that one id, with `setgroups` denied. Root there cannot
/// switch to `nobody`: the agents then keep the namespace's uid 0 (the caller's uid outside), as they keep the
/// caller's uid when FlowForge is not root at all.
public struct UserNamespace: Sendable, Equatable {
    /// One line of an id map: `inside` and the next `count - 1` ids map to `outside`...
    public struct Extent: Sendable, Equatable {
        public let inside: UInt32
        public let outside: UInt32
        public let count: UInt32
    }

    public let uidMap: [Extent]
    public let gidMap: [Extent]
    /// False when `/proc/self/setgroups` says `deny` (an unprivileged map was written).
    public let setgroupsAllowed: Bool

    public init(uidMap: [Extent], gidMap: [Extent], setgroupsAllowed: Bool) {
        self.uidMap = uidMap
        self.gidMap = gidMap
        self.setgroupsAllowed = setgroupsAllowed
    }

    /// This process's namespace (an unreadable map counts as the initial namespace's full map).
    public static func current() -> UserNamespace {
        let full = [Extent(inside: 0, outside: 0, count: UInt32.max)]
        return UserNamespace(uidMap: FileIO.readText("/proc/self/uid_map").map(parseMap) ?? full,
                             gidMap: FileIO.readText("/proc/self/gid_map").map(parseMap) ?? full,
                             setgroupsAllowed: FileIO.readText("/proc/self/setgroups").map { !$0.hasPrefix("deny") } ?? true)
    }

    /// `uid_map` text: lines of three decimal numbers; anything else on a line is skipped.
    public static func parseMap(_ text: String) -> [Extent] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) }
            guard fields.count == 3 else { return nil }
            return Extent(inside: fields[0], outside: fields[1], count: fields[2])
        }
    }

    public func maps(uid: UInt32) -> Bool { Self.outside(uid, in: uidMap) != nil }
    public func maps(gid: UInt32) -> Bool { Self.outside(gid, in: gidMap) != nil }

    /// The id outside this namespace (one level up) for `uid`, if it is mapped.
    public func outsideUID(_ uid: UInt32) -> UInt32? { Self.outside(uid, in: uidMap) }

    /// Whether this is the initial user namespace (the whole id range mapped onto itself).
    public var isInitial: Bool { uidMap == [Extent(inside: 0, outside: 0, count: UInt32.max)] }

    private static func outside(_ id: UInt32, in map: [Extent]) -> UInt32? {
        for e in map where id >= e.inside && UInt64(id) < UInt64(e.inside) + UInt64(e.count) {
            return e.outside &+ (id - e.inside)
        }
        return nil
    }
}
