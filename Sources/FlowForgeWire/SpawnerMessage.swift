// FlowForge — messages between the reaper and its spawner helper
// SPDX-License-Identifier: Apache-2.0

/// A frame exchanged between the reaper and its spawner helper.
///
/// Type codes 64...127 (`SpawnerMessage.typeCodes`): requests from the reaper use 64...95,
/// replies from the spawner 96...127. Disjoint from `Message`, so an agent frame fed to
/// `SpawnerMessage.decode` fails with `unknownType`.
public enum SpawnerMessage: Sendable, Equatable, Hashable {
    /// Request: start the worker for `generation`.
    case spawnWorker(generation: UInt32)
    /// Request: start an agent process.
    case spawnAgent(role: AgentRole)
    /// Request: list the reaper's descendants.
    case scan
    /// Request: remove the cgroup of `generation`.
    case removeCgroup(generation: UInt32)
    /// Request: exit cleanly.
    case finish
    /// Request: the I/O activity of `generation`'s tree (`/proc/PID/io`, which the sandboxed detector may
    /// not read: it needs ptrace read access to the worker).
    case activity(generation: UInt32)
    /// Request: create segment `segment` of the run's spool (the current one reached its size limit) and
    /// prune the oldest segments beyond the number kept.
    case openSpool(segment: UInt32)
    /// Reply: a process was started; its file descriptors travel beside this frame via SCM_RIGHTS.
    case spawned(pid: UInt32, hasCgroup: Bool)
    /// Reply to `scan`: descendant pids, at most `SpawnerMessage.maxScanPIDs`.
    case scanResult(pids: [UInt32])
    /// Reply to `activity`: the tree's cumulative read/write calls, bytes and voluntary context switches, and
    /// how many of its processes could be read (0: unknown).
    case activityResult(syscalls: UInt64, bytes: UInt64, switches: UInt64, processes: UInt32)
    /// Reply to `openSpool`: the new segment's descriptor travels beside this frame via SCM_RIGHTS.
    case spoolOpened(segment: UInt32)
    /// Reply: the request failed with `errno`.
    case failed(errno: Int32, detail: String)

    /// The range every `SpawnerMessage` type code falls in.
    public static let typeCodes: ClosedRange<UInt8> = 64...127

    /// Largest number of pids in one `scanResult` (so it fits in one frame).
    public static let maxScanPIDs = 16000

    /// The frame type code of this message.
    public var typeCode: UInt8 { TypeCode(self).rawValue }
}

extension SpawnerMessage {
    /// Frame type codes of `SpawnerMessage`.
    enum TypeCode: UInt8, CaseIterable {
        case spawnWorker = 64
        case spawnAgent = 65
        case scan = 66
        case removeCgroup = 67
        case finish = 68
        case activity = 69
        case openSpool = 70
        case spawned = 96
        case scanResult = 97
        case failed = 98
        case activityResult = 99
        case spoolOpened = 100

        init(_ message: SpawnerMessage) {
            switch message {
            case .spawnWorker: self = .spawnWorker
            case .spawnAgent: self = .spawnAgent
            case .scan: self = .scan
            case .removeCgroup: self = .removeCgroup
            case .finish: self = .finish
            case .activity: self = .activity
            case .activityResult: self = .activityResult
            case .openSpool: self = .openSpool
            case .spoolOpened: self = .spoolOpened
            case .spawned: self = .spawned
            case .scanResult: self = .scanResult
            case .failed: self = .failed
            }
        }
    }
}
