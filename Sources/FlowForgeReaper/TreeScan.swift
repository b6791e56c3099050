// FlowForge — the bookkeeping of the spawner's /proc scans, as a pure value: one scan in flight, requests
// coalesced, the strongest signal kept.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem

/// What the reaper wants from the spawner's scan of the worker's descendants (the processes that left its
/// process group and cgroup): to signal them, to know whether any is left, or both. Only one scan is in
/// flight. What is asked while it runs is answered by its reply (signals go through pidfds, so a process
/// that exited since is never hit) and one more scan follows, for what appeared in the meantime.
public struct TreeScan: Sendable, Equatable {
    public private(set) var inFlight = false
    /// The signal the next reply's processes get (SIGKILL wins over SIGTERM until it is sent).
    public private(set) var pendingSignal: Signal?
    /// Whether the next reply answers "is anything left?" (`treeChecked`).
    public private(set) var pendingCheck = false
    private var again = false

    public init() {}

    /// A scan is asked for or its signal not yet delivered: no other spawner work (activity sampling) now.
    public var busy: Bool { inFlight || pendingSignal != nil }

    /// Asks for the scan's processes to get `signal`. Returns whether to send a scan request now.
    public mutating func signal(_ signal: Signal) -> Bool {
        signalWithNextScan(signal)
        return request()
    }

    /// Asks for the next scan's processes to get `signal`, without asking for a scan now (after `cgroup.kill`
    /// the check that follows, once the cgroup is empty, brings one).
    public mutating func signalWithNextScan(_ signal: Signal) {
        pendingSignal = signal == .kill || pendingSignal == .kill ? .kill : signal
    }

    /// Asks whether anything of the tree is left. Returns whether to send a scan request now.
    public mutating func check() -> Bool {
        pendingCheck = true
        return request()
    }

    private mutating func request() -> Bool {
        if inFlight {
            again = true
            return false
        }
        inFlight = true
        return true
    }

    /// What to do with a scan's reply.
    public struct Reply: Sendable, Equatable {
        /// Signal the reply's processes with this.
        public var signal: Signal?
        /// Answer `treeChecked` from the reply.
        public var check: Bool
        /// Send another scan request (something was asked while this one ran).
        public var scanAgain: Bool

        public init(signal: Signal?, check: Bool, scanAgain: Bool) {
            self.signal = signal
            self.check = check
            self.scanAgain = scanAgain
        }
    }

    /// The spawner answered the scan in flight.
    public mutating func replied() -> Reply {
        let reply = Reply(signal: pendingSignal, check: pendingCheck, scanAgain: again)
        pendingSignal = nil
        pendingCheck = false
        inFlight = again
        again = false
        return reply
    }

    /// Without a spawner nothing can be scanned: drops what was asked and says whether a check was pending
    /// (the caller answers it from the cgroup alone).
    public mutating func abandon() -> Bool {
        defer { self = TreeScan() }
        return pendingCheck
    }
}
