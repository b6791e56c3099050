// FlowForge — the reaper's command line, parsed by hand (the reaper links no ArgumentParser).
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire

/// What `flowforge run` hands the reaper (and the reaper hands the spawner) on the command line.
///
/// The format is internal: `--key=value` options, then `--`, then the worker's absolute path and argv.
public struct ReaperConfig: Sendable, Equatable {
    public enum Role: String, Sendable { case reaper, spawner }
    public enum LogLevel: Int, Sendable, Comparable {
        case error = 0, warn, info, debug
        public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

        static let names = ["error", "warn", "info", "debug"]
        /// The level's name on the command line and in JSON logs.
        public var name: String { LogLevel.names[rawValue] }

        public init?(name: String) {
            guard let i = LogLevel.names.firstIndex(of: name) else { return nil }
            self.init(rawValue: i)
        }
    }

    public var role = Role.reaper
    public var graceNanos: UInt64 = 5_000_000_000
    public var agentIdentity: (uid: UInt32, gid: UInt32) = (65534, 65534)
    public var workerIdentity: (uid: UInt32, gid: UInt32)?
    public var runID = "run"
    /// The worker's name (`WorkerName`): on every event line and in `run.started`.
    public var name = "worker"
    public var logLevel = LogLevel.info
    /// `--log-format=json`: FlowForge's own messages as JSON lines instead of text.
    public var logJSON = false
    public var agents: [AgentRole] = [.detector, .api]
    public var agentsDirectory: String?
    public var detectorArguments: [String] = []
    public var apiArguments: [String] = []
    public var useCgroup = true
    public var seccompLogOnly = false
    /// How detector-requested kill/restart actions are treated (operator actions are always enforced).
    public enum Rollout: String, Sendable { case shadow, canary, enforce }
    public var rollout = Rollout.enforce
    /// For canary: the percentage of runs that enforce (0...100).
    public var canaryPercent = 10
    /// The crash-loop guard: at most this many restarts within `restartWindowNanos`.
    public var maxRestarts = 5
    public var restartWindowNanos: UInt64 = 300_000_000_000
    /// A generation that ran at least this long resets the restart backoff.
    public var stableRunNanos: UInt64 = 60_000_000_000
    /// Whether a worker that exits on its own is started again.
    public var restartOnExit = ExitRestart.never
    /// Inherited descriptors to append JSON-lines events to: the run's spool in the state directory and
    /// `--events FILE`.
    public var eventsFDs: [Int32] = []
    /// The spool file's path: the spawner hands the API agent a read-only descriptor of it, so a restarted
    /// API agent rebuilds the run's history from it.
    public var spoolPath: String?
    /// The spool's first segment, opened by `flowforge run` (the reaper appends events to it).
    public var spoolFD: Int32?
    /// The spool's segment size: past it the spawner opens the next segment.
    public var spoolSegmentBytes: UInt64 = 64 << 20
    /// Segments kept per run, the live one included; older ones are deleted.
    public var spoolKeepSegments: UInt32 = 4
    /// The state directory's declared owner (`FLOWFORGE_STATE_OWNER`), when it is not the caller: the
    /// spawner hands it the spool segments and the control socket it creates.
    public var stateOwner: UInt32?
    /// The run's control socket (0600): the dashboard reaches the run's API agent through it.
    public var controlPath: String?
    /// `--watchdog` in microseconds (0: off): the worker's WATCHDOG_USEC, with WATCHDOG_PID its own pid.
    public var watchdogUsec: UInt64 = 0
    /// `memory.high` for each worker cgroup, when it has the memory controller (0: leave it alone).
    public var memoryHighBytes: UInt64 = 0
    /// A descriptor to read the API key from (a pipe from `flowforge run`): the key never travels in an
    /// environment or an argv. The reaper hands it to the spawner and keeps no copy.
    public var apiKeyFD: Int32?
    /// Worker program (absolute path) and its argv (argv[0] first).
    public var workerPath = ""
    public var workerArguments: [String] = []

    public init() {}

    public static func == (a: ReaperConfig, b: ReaperConfig) -> Bool { a.arguments == b.arguments }

    /// Parses the internal command line. Throws a message for anything unknown or malformed.
    public init(arguments: [String]) throws(ConfigError) {
        var i = 0
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            if arg == "--" { break }
            guard arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") else { throw ConfigError("unexpected argument '\(arg)'") }
            let key = String(arg[arg.index(arg.startIndex, offsetBy: 2)..<eq])
            let value = String(arg[arg.index(after: eq)...])
            switch key {
            case "role":
                guard let r = Role(rawValue: value) else { throw ConfigError("bad role '\(value)'") }
                role = r
            case "grace-ms":
                guard let ms = UInt64(value), ms <= 86_400_000 else { throw ConfigError("bad grace '\(value)'") }
                graceNanos = ms * 1_000_000
            case "agent-user": agentIdentity = try Self.identity(value)
            case "worker-user": workerIdentity = try Self.identity(value)
            case "run-id": runID = value
            case "name":
                guard let n = WorkerName(value) else { throw ConfigError("bad name '\(value)'") }
                name = n.description
            case "log-level":
                guard let level = LogLevel(name: value) else { throw ConfigError("bad log level '\(value)'") }
                logLevel = level
            case "log-format":
                guard value == "text" || value == "json" else { throw ConfigError("bad log format '\(value)'") }
                logJSON = value == "json"
            case "agents":
                agents = []
                for name in value.split(separator: ",") {
                    switch name {
                    case "detector": agents.append(.detector)
                    case "api": agents.append(.api)
                    default: throw ConfigError("unknown agent '\(name)'")
                    }
                }
            case "agents-dir": agentsDirectory = value
            case "detector-arg": detectorArguments.append(value)
            case "api-arg": apiArguments.append(value)
            case "cgroup": useCgroup = value != "off"
            case "seccomp": seccompLogOnly = value == "log"
            case "rollout":
                guard let r = Rollout(rawValue: value) else { throw ConfigError("bad rollout '\(value)'") }
                rollout = r
            case "canary-percent":
                guard let p = Int(value), (0...100).contains(p) else { throw ConfigError("bad canary percent '\(value)'") }
                canaryPercent = p
            case "max-restarts":
                guard let n = Int(value), n >= 0, n <= 1_000_000 else { throw ConfigError("bad max restarts '\(value)'") }
                maxRestarts = n
            case "restart-window-ms":
                guard let ms = UInt64(value), ms <= 86_400_000 * 7 else { throw ConfigError("bad restart window '\(value)'") }
                restartWindowNanos = ms * 1_000_000
            case "restart-on-exit":
                guard let r = ExitRestart(rawValue: value) else { throw ConfigError("bad restart-on-exit '\(value)'") }
                restartOnExit = r
            case "stable-run-ms":
                guard let ms = UInt64(value), ms <= 86_400_000 * 7 else { throw ConfigError("bad stable run '\(value)'") }
                stableRunNanos = ms * 1_000_000
            case "events-fd":
                guard let fd = Int32(value), fd >= 3 else { throw ConfigError("bad events fd '\(value)'") }
                eventsFDs.append(fd)
            case "spool": spoolPath = value
            case "spool-fd":
                guard let fd = Int32(value), fd >= 3 else { throw ConfigError("bad spool fd '\(value)'") }
                spoolFD = fd
            case "spool-segment-bytes":
                guard let n = UInt64(value), n >= 4096 else { throw ConfigError("bad spool segment size '\(value)'") }
                spoolSegmentBytes = n
            case "state-owner":
                guard let uid = UInt32(value) else { throw ConfigError("bad state owner '\(value)'") }
                stateOwner = uid
            case "spool-keep":
                guard let n = UInt32(value), (1...1000).contains(n) else { throw ConfigError("bad spool segment count '\(value)'") }
                spoolKeepSegments = n
            case "control": controlPath = value
            case "memory-high":
                guard let bytes = UInt64(value) else { throw ConfigError("bad memory high '\(value)'") }
                memoryHighBytes = bytes
            case "watchdog-usec":
                guard let usec = UInt64(value), usec <= 604_800_000_000 else { throw ConfigError("bad watchdog usec '\(value)'") }
                watchdogUsec = usec
            case "api-key-fd":
                guard let fd = Int32(value), fd >= 3 else { throw ConfigError("bad api key fd '\(value)'") }
                apiKeyFD = fd
            default: throw ConfigError("unknown option '--\(key)'")
            }
        }
        guard i < arguments.count else { throw ConfigError("missing worker command after --") }
        workerPath = arguments[i]
        workerArguments = Array(arguments[(i + 1)...])
        guard workerPath.hasPrefix("/"), !workerArguments.isEmpty else { throw ConfigError("worker path must be absolute, followed by argv") }
    }

    /// The command line that reproduces this configuration (used to start the spawner).
    public var arguments: [String] {
        var a = ["--role=\(role.rawValue)", "--grace-ms=\(graceNanos / 1_000_000)",
                 "--agent-user=\(agentIdentity.uid):\(agentIdentity.gid)", "--run-id=\(runID)", "--name=\(name)"]
        if let w = workerIdentity { a.append("--worker-user=\(w.uid):\(w.gid)") }
        a.append("--log-level=\(logLevel.name)")
        if logJSON { a.append("--log-format=json") }
        a.append("--agents=" + agents.map { $0 == .detector ? "detector" : "api" }.joined(separator: ","))
        if let d = agentsDirectory { a.append("--agents-dir=\(d)") }
        a += detectorArguments.map { "--detector-arg=\($0)" }
        a += apiArguments.map { "--api-arg=\($0)" }
        if !useCgroup { a.append("--cgroup=off") }
        if seccompLogOnly { a.append("--seccomp=log") }
        if let s = spoolPath { a.append("--spool=\(s)") }
        a += ["--spool-segment-bytes=\(spoolSegmentBytes)", "--spool-keep=\(spoolKeepSegments)"]
        if let o = stateOwner { a.append("--state-owner=\(o)") }
        if let c = controlPath { a.append("--control=\(c)") }
        if watchdogUsec > 0 { a.append("--watchdog-usec=\(watchdogUsec)") }
        if memoryHighBytes > 0 { a.append("--memory-high=\(memoryHighBytes)") }
        if let k = apiKeyFD { a.append("--api-key-fd=\(k)") }
        a += ["--rollout=\(rollout.rawValue)", "--canary-percent=\(canaryPercent)", "--max-restarts=\(maxRestarts)",
              "--restart-window-ms=\(restartWindowNanos / 1_000_000)", "--stable-run-ms=\(stableRunNanos / 1_000_000)",
              "--restart-on-exit=\(restartOnExit.rawValue)"]
        return a + ["--", workerPath] + workerArguments
    }

    private static func identity(_ s: String) throws(ConfigError) -> (uid: UInt32, gid: UInt32) {
        let parts = s.split(separator: ":")
        guard parts.count == 2, let u = UInt32(parts[0]), let g = UInt32(parts[1]) else { throw ConfigError("bad uid:gid '\(s)'") }
        return (u, g)
    }
}

/// A malformed reaper command line.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
