// FlowForge — `flowforge run`: validate everything, then exec into the reaper so its PID is the one callers see.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeSystem
#if canImport(Glibc)
import Glibc
#endif

/// `flowforge run [options] -- COMMAND [ARGS...]`.
public struct RunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a worker under supervision.",
        discussion: """
            FlowForge becomes the worker's reaper (same PID): on SIGTERM, SIGINT or SIGHUP it sends SIGTERM to the
            worker's whole tree, waits --grace seconds, then SIGKILLs what is left, then exits.
            Exit status: the worker's own code; 128+N if a signal N ended it; 120 if FlowForge stopped it;
            111 if FlowForge itself failed; 100 for bad usage.

            Examples:
              flowforge run -- python3 worker.py
              flowforge run --grace 2 -- sh -c 'make all'
              flowforge run --max-cpu 70 --on-runaway kill -- ./agent.sh
              flowforge run --shadow-mode --events events.jsonl -- python3 worker.py
              flowforge run --policy-rollout canary --policy-canary-percent 10 -- python3 worker.py
            """
    )

    @Option(name: .long, help: "Seconds between SIGTERM and SIGKILL when stopping the worker's tree (0-3600).")
    var grace: Double = 5

    @Option(name: .customLong("agent-user"), help: "User the detector and API agents switch to when FlowForge runs as root.")
    var agentUser = "nobody"

    @Option(name: .long, help: "Run the worker as this user (name or uid); needs root.")
    var user: String?

    @Option(name: .long, help: "Run the worker with this group (name or gid; default: the --user's primary group); needs root.")
    var group: String?

    @Option(name: .customLong("log-level"), help: "error, warn, info or debug (FlowForge's own messages, on stderr).")
    var logLevel = "info"

    @Flag(name: .customLong("no-cgroup"), help: "Do not put the worker in a cgroup even when one is writable.")
    var noCgroup = false

    @Flag(name: .customLong("no-python-unbuffered"), help: "Do not set PYTHONUNBUFFERED=1 for the worker.")
    var noPythonUnbuffered = false

    @OptionGroup(title: "Detection, actions and rollout")
    var detection: DetectionOptions

    @Argument(parsing: .postTerminator, help: "The worker command and its arguments, after --.")
    var command: [String] = []

    public init() {}

    public func validate() throws {
        guard !command.isEmpty else { throw ValidationError("missing worker command: flowforge run [options] -- COMMAND [ARGS...]") }
        guard grace.isFinite, grace >= 0, grace <= 3600 else { throw ValidationError("--grace must be between 0 and 3600 seconds, got \(grace)") }
        guard ["error", "warn", "info", "debug"].contains(logLevel) else {
            throw ValidationError("--log-level must be error, warn, info or debug, got '\(logLevel)'")
        }
        guard Sandbox.lookupUser(agentUser) != nil else { throw ValidationError("--agent-user: no such user '\(agentUser)'") }
        if let user {
            guard Sandbox.lookupUser(user) != nil else { throw ValidationError("--user: no such user '\(user)'") }
            guard geteuid() == 0 else { throw ValidationError("--user needs FlowForge to run as root") }
        }
        if let group {
            guard Sandbox.lookupGroup(group) != nil else { throw ValidationError("--group: no such group '\(group)'") }
            guard geteuid() == 0 else { throw ValidationError("--group needs FlowForge to run as root") }
        }
        guard Executable.resolve(command[0]) != nil else { throw ValidationError("command not found: \(command[0])") }
    }

    public func run() throws {
        guard let path = Executable.resolve(command[0]) else { throw ValidationError("command not found: \(command[0])") }
        let agent = Sandbox.lookupUser(agentUser)!
        var args = ["--grace-ms=\(Int((grace * 1000).rounded()))", "--agent-user=\(agent.uid):\(agent.gid)",
                    "--run-id=\(RunID.make())", "--log-level=\(logLevel)"]
        if user != nil || group != nil {
            let base = user.flatMap(Sandbox.lookupUser) ?? (getuid(), getgid())
            let gid = group.flatMap(Sandbox.lookupGroup) ?? base.gid
            args.append("--worker-user=\(base.uid):\(gid)")
        }
        if noCgroup { args.append("--cgroup=off") }
        args += detection.reaperArguments
        args += try detection.detectorOptions().arguments.map { "--detector-arg=\($0)" }
        if let path = detection.events {
            // Opened here, inherited by the reaper (which cannot open files once sandboxed).
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            guard fd >= 0 else { throw ValidationError("--events: cannot open \(path): \(SystemError("open", errno: errno))") }
            args.append("--events-fd=\(fd)")
        }
        args += ["--", path] + command
        // Python block-buffers stdout on a pipe; the detector needs output promptly. Opt out with the flag,
        // or by setting PYTHONUNBUFFERED yourself (an explicit value is kept).
        if !noPythonUnbuffered && getenv("PYTHONUNBUFFERED") == nil { setenv("PYTHONUNBUFFERED", "1", 1) }
        try Executable.execSibling("flowforge-reaper", arguments: args)
    }
}
