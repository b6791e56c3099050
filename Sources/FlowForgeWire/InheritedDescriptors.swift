// FlowForge — which descriptor is which in a process FlowForge starts: the contract between the starter's
// `fdMap` and the started process.
// SPDX-License-Identifier: Apache-2.0

/// The descriptors the spawner and the agents find open when they start (0-2 are stdin, stdout, stderr).
/// The starter builds the map with `DescriptorMap`, the started process reads these numbers: one definition,
/// so the two sides cannot drift.
public enum InheritedFD {
    /// Every agent and the spawner: the seqpacket channel to the reaper.
    public static let channel: Int32 = 3

    /// The spawner (the reaper's own re-exec, started before it sandboxes itself).
    public enum Spawner {
        /// The write ends of the worker's output pipes, which become the worker's stdout and stderr.
        public static let workerStdout: Int32 = 4
        public static let workerStderr: Int32 = 5
        /// The API key pipe (`--api-key-fd`), when the run serves an API.
        public static let apiKey: Int32 = 6
    }

    /// The detector agent.
    public enum Detector {
        /// The worker's NOTIFY_SOCKET (bound once by the spawner); /dev/null without one.
        public static let notify: Int32 = 4
        /// FlowForge's own service manager's NOTIFY_SOCKET (systemd `Type=notify`), connected by the spawner;
        /// /dev/null when FlowForge has none.
        public static let serviceManager: Int32 = 5
    }

    /// The API agent.
    public enum API {
        /// The run's current spool segment, read-only (its history after a respawn); /dev/null without a spool.
        public static let spool: Int32 = 4
        /// A pipe holding the API key and then EOF, so it never sits in the agent's environment or argv;
        /// /dev/null without a key.
        public static let apiKey: Int32 = 5
        /// The run's control socket (listening, bound once by the spawner); /dev/null without one.
        public static let controlSocket: Int32 = 6
    }
}

/// A spawn's descriptor map (index = descriptor in the child, value = the starter's descriptor), built in
/// the order `InheritedFD` defines, so a misplaced descriptor is caught where the map is built.
public struct DescriptorMap: Sendable, Equatable {
    public private(set) var descriptors: [Int32]

    public init(stdin: Int32, stdout: Int32, stderr: Int32) { descriptors = [stdin, stdout, stderr] }

    /// Puts the starter's `fd` at `child`, the next free descriptor (checked: the layout is a programming
    /// contract, not input).
    public mutating func place(_ fd: Int32, at child: Int32) {
        precondition(Int(child) == descriptors.count, "descriptor \(child) placed out of order (next is \(descriptors.count))")
        descriptors.append(fd)
    }
}
