// FlowForge — `flowforge run`: resolve and validate everything, then exec into the reaper so its PID is the
// one callers see.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeConfig
import FlowForgeSystem
import FlowForgeWire

/// `flowforge run [options] -- COMMAND [ARGS...]`.
///
/// Help prose is written as paragraphs, one logical line each (a trailing `\` continues the line): the argument
/// parser wraps them to the terminal, 80 columns on a pipe (`HelpTextTests` keeps a snapshot of every command).
public struct RunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a worker under supervision.",
        discussion: """
            FlowForge becomes the worker's reaper (same PID): on SIGTERM, SIGINT or SIGHUP it sends SIGTERM to \
            the worker's whole tree, waits --grace seconds, then SIGKILLs what is left, then exits.

            Exit status: the worker's own code; 128+N if a signal N ended it; 120 if FlowForge stopped it; \
            111 if FlowForge itself failed; 64 for bad options (nothing was started).

            Every option can also come from the environment (FLOWFORGE_MAX_CPU, ...) or a config file \
            (--config); the command line wins, then the environment, then the file, then the defaults.

            Examples:
              flowforge run -- python3 worker.py
              flowforge run --name consumer:1 -- python3 consumer.py --queue orders
              flowforge run --grace 2 -- sh -c 'make all'
              flowforge run --max-cpu 70 --on-runaway kill -- ./agent.sh
              flowforge run --shadow-mode --events events.jsonl -- ./worker
              flowforge run --policy-rollout canary --policy-canary-percent 10 -- ./worker
              flowforge run --config config/flowforge.yaml -- python3 worker.py
            """
    )

    @Option(help: "The worker's name in events, /runs, /timeline, the dashboard and the name label of /metrics: NAME or NAME:INSTANCE, letters, digits, '.', '_' and '-' (default: the command's basename).")
    var name: String?

    @Option(help: "Apply the keys of programs.NAME in the --config file over the file's sections (flowforge up passes it for each instance).")
    var program: String?

    @Option(help: "Start the worker in this directory; a relative command path is found from there.")
    var cwd: String?

    @Option(name: .long, help: "Seconds between SIGTERM and SIGKILL when stopping the worker's tree, 0-3600 (default 5).")
    var grace: Double?

    @Option(name: .customLong("agent-user"), help: "User the detector and API agents switch to when FlowForge runs as root (default nobody).")
    var agentUser: String?

    @Option(name: .long, help: "Run the worker as this user (name or uid); needs root.")
    var user: String?

    @Option(name: .long, help: "Run the worker with this group (name or gid; default: the --user's primary group); needs root.")
    var group: String?

    @Option(name: .customLong("log-level"), help: "error, warn, info or debug: FlowForge's own messages, on stderr (default info).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "text or json (one JSON object per line) for FlowForge's own messages (default text).")
    var logFormat: String?

    @Flag(name: .customLong("no-cgroup"), help: "Do not put the worker in a cgroup even when one is writable.")
    var noCgroup = false

    @Flag(name: .customLong("no-python-unbuffered"), help: "Do not set PYTHONUNBUFFERED=1 for the worker.")
    var noPythonUnbuffered = false

    @Option(name: .customLong("spool-segment-mb"), help: "Start a new segment of the run's spool past this many MiB (default 64).")
    var spoolSegmentMB: Double?

    @Option(name: .customLong("spool-keep-segments"), help: "Spool segments kept per run, the live one included (default 4).")
    var spoolKeepSegments: Int?

    @Option(help: "Serve the HTTP API and dashboard for this run on HOST:PORT (e.g. 127.0.0.1:8080).")
    var listen: String?

    @Flag(name: .customLong("allow-remote"), help: "Allow --listen on a non-loopback address (prints a warning).")
    var allowRemote = false

    @Option(name: .customLong("allowed-host"), help: "A Host name the API answers besides loopback names and the --listen host (repeatable).")
    var allowedHosts: [String] = []

    @Flag(name: .customLong("require-key-for-reads"), help: "The API answers /timeline, /runs and /metrics only with the API key (/healthz stays open).")
    var requireKeyForReads = false

    @OptionGroup(title: "Detection, actions and rollout")
    var detection: DetectionOptions

    @Argument(parsing: .postTerminator, help: "The worker command and its arguments, after --.")
    var command: [String] = []

    public init() {}

    var given: [SettingOverride] {
        var out = detection.given
        if let grace { out.append(.number(.grace, grace)) }
        if let agentUser { out.append(.text(.agentUser, agentUser)) }
        if let logLevel { out.append(.text(.logLevel, logLevel)) }
        if let logFormat { out.append(.text(.logFormat, logFormat)) }
        if noCgroup { out.append(.flag(.cgroup, false)) }
        if noPythonUnbuffered { out.append(.flag(.pythonUnbuffered, false)) }
        if let spoolSegmentMB { out.append(.number(.segmentMB, spoolSegmentMB)) }
        if let spoolKeepSegments { out.append(.integer(.keepSegments, spoolKeepSegments)) }
        if requireKeyForReads { out.append(.flag(.requireKeyForReads, true)) }
        if !allowedHosts.isEmpty { out.append(.text(.allowedHosts, allowedHosts.joined(separator: ","))) }
        return out
    }

    func settings() throws -> Settings {
        try SettingsResolver.resolve(configPath: detection.thresholds.config, given: given, program: program)
    }

    /// The worker's command resolved like execvp would, from `--cwd` when given.
    func resolvedCommand() -> String? {
        guard let cwd, !command[0].hasPrefix("/"), command[0].contains("/") else { return Executable.resolve(command[0]) }
        let path = (cwd.hasPrefix("/") ? cwd : Executable.currentDirectory() + "/" + cwd) + "/" + command[0]
        return FileIO.isExecutable(path) ? path : nil
    }

    /// The worker's name: `--name`, or the command's basename.
    var workerName: String { name.flatMap(WorkerName.init)?.description ?? WorkerName.defaulted(command: command.first ?? "").description }

    public func validate() throws {
        guard !command.isEmpty else { throw ValidationError("missing worker command: flowforge run [options] -- COMMAND [ARGS...]") }
        if let name, WorkerName(name) == nil {
            throw ValidationError("--name '\(name)': use NAME or NAME:INSTANCE (NAME: 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'; INSTANCE: 1-9999)")
        }
        let s = try settings()
        guard let agent = Accounts.user(s.text(.agentUser)) else {
            throw ValidationError("--agent-user: no such user '\(s.text(.agentUser))'")
        }
        // The agents' sandbox assumes an identity that owns nothing: root would keep root's files, and a
        // worker sharing the agents' uid could signal or trace them.
        guard agent.uid != 0 else {
            throw ValidationError("--agent-user must not be root: the agents run as an unprivileged user (default: nobody)")
        }
        if let user {
            guard let worker = Accounts.user(user) else { throw ValidationError("--user: no such user '\(user)'") }
            guard worker.uid != agent.uid else {
                throw ValidationError("--user \(user) is also the agents' user (--agent-user): a worker of that uid could signal or trace them; give the agents their own user")
            }
            guard CurrentProcess.effectiveUserID == 0 else { throw ValidationError("--user needs FlowForge to run as root") }
        }
        if let group {
            guard Accounts.group(group) != nil else { throw ValidationError("--group: no such group '\(group)'") }
            guard CurrentProcess.effectiveUserID == 0 else { throw ValidationError("--group needs FlowForge to run as root") }
        }
        if let cwd, !FileIO.isDirectory(cwd) { throw ValidationError("--cwd \(cwd): not a directory") }
        guard resolvedCommand() != nil else { throw ValidationError("command not found: \(command[0])\(cwd.map { " (in \($0))" } ?? "")") }
        if let listen { try ListenAddress.check(listen, allowRemote: allowRemote) }
        try ListenAddress.checkAllowedHosts(ListenAddress.hostList(s.text(.allowedHosts)))
    }

    /// The uid and gid the agents switch to: the agent user's, unless FlowForge is root of a user namespace
    /// that does not map them (a rootless container: `unshare --user --map-root-user`, rootless Podman without
    /// subordinate ids). Then no switch is possible and the agents keep this namespace's uid 0, which is the
    /// unprivileged caller outside it, as they keep the caller's uid when FlowForge is not root; they still
    /// drop every capability and run under no-new-privs and their filters.
    func agentIdentity(named user: String) -> (uid: UInt32, gid: UInt32) {
        let agent = Accounts.user(user)!
        let namespace = UserNamespace.current()
        guard CurrentProcess.effectiveUserID == 0, !namespace.maps(uid: agent.uid) || !namespace.maps(gid: agent.gid) else { return agent }
        let outside = namespace.outsideUID(0).map { "uid \($0) outside" } ?? "unmapped outside"
        FileIO.warn("flowforge: warning: the agent user \(user) (uid \(agent.uid)) is not mapped in this user namespace: the detector and API agents keep its uid 0 (\(outside)), without capabilities, under no-new-privs and their seccomp filters")
        return (0, CurrentProcess.effectiveGroupID)
    }

    public func run() throws {
        let s = try settings()
        guard let path = resolvedCommand() else { throw ValidationError("command not found: \(command[0])") }

        let agent = agentIdentity(named: s.text(.agentUser))
        let runID = RunID.make()
        var args = ["--grace-ms=\(Int((s.number(.grace) * 1000).rounded()))", "--agent-user=\(agent.uid):\(agent.gid)",
                    "--run-id=\(runID)", "--name=\(workerName)", "--log-level=\(s.text(.logLevel))", "--log-format=\(s.text(.logFormat))"]
        if user != nil || group != nil {
            let base = user.flatMap(Accounts.user) ?? (CurrentProcess.realUserID, CurrentProcess.realGroupID)
            let gid = group.flatMap(Accounts.group) ?? base.gid
            args.append("--worker-user=\(base.uid):\(gid)")
        }
        if !s.flag(.cgroup) { args.append("--cgroup=off") }
        args += DetectionOptions.reaperArguments(s)
        args += try DetectionOptions.detectorOptions(s).arguments.map { "--detector-arg=\($0)" }
        // The run's spool: every event, durable, in the state directory (the dashboard's store ingests it).
        // Created fresh (O_EXCL, never through a symlink) in a directory that must be ours alone.
        let owner = try Accounts.stateOwner()
        if let owner { args.append("--state-owner=\(owner)") }
        do {
            let state = Executable.absolute(try StateDirectory.ensure(owner: owner)) // the spawner binds after --cwd
            let fd = try StateDirectory.createPrivateFile(in: state + "/runs", name: StateDirectory.spoolName(runID: runID, segment: 1), owner: owner)
            _ = try? FileIO.makeInheritable(fd) // inherited by the reaper (created close-on-exec, like every descriptor)
            args += ["--spool-fd=\(fd)", "--spool=\(state)/runs/\(StateDirectory.spoolName(runID: runID, segment: 1))",
                     "--spool-segment-bytes=\(max(4096, UInt64(s.number(.segmentMB) * 1_048_576)))",
                     "--spool-keep=\(s.integer(.keepSegments))"]
            args.append("--control=\(state)/runs/\(runID).sock")
        } catch {
            FileIO.warn("flowforge: warning: \(error); this run keeps no spool and has no control socket")
        }
        // The key reaches the API agent through pipes only: never in an environment a same-uid worker could
        // read from /proc/PID/environ, nor in an argv. No FlowForge process keeps FLOWFORGE_API_KEY.
        let key = try StateDirectory.apiKey(owner: owner)
        ProcessEnvironment.scrub("FLOWFORGE_API_KEY")
        if let listen {
            args.append("--api-arg=--listen=\(listen)")
            // Through the reaper's agent arguments, like --listen: the reaper passes them on unread.
            if s.flag(.requireKeyForReads) { args.append("--api-arg=--require-key-for-reads") }
            args += ListenAddress.hostList(s.text(.allowedHosts)).map { "--api-arg=--allowed-host=\($0)" }
            if let key {
                let pipe = try FileIO.pipe()
                try FileIO.writeAll(pipe.write, key + "\n")
                FileIO.close(pipe.write)
                try FileIO.makeInheritable(pipe.read) // inherited by the reaper, which hands it to the spawner
                args.append("--api-key-fd=\(pipe.read)")
            } else {
                FileIO.warn("flowforge: warning: no API key (FLOWFORGE_API_KEY or \(StateDirectory.keyFile)): process endpoints are disabled")
            }
        }
        let eventsPath = s.text(.eventsFile)
        if !eventsPath.isEmpty {
            // Opened here, inherited by the reaper (which cannot open files once sandboxed). Created 0600: the
            // events hold the worker's output lines, which are nobody else's business.
            let fd: Int32
            do { fd = try FileIO.openInheritedForAppend(eventsPath, creatingWith: 0o600) } catch {
                throw ValidationError("--events: cannot open \(eventsPath): \(error)")
            }
            args.append("--events-fd=\(fd)")
        }
        args += ["--", path] + command
        // Python block-buffers stdout on a pipe; the detector needs output promptly. Opt out with the flag,
        // or by setting PYTHONUNBUFFERED yourself (an explicit value is kept).
        if s.flag(.pythonUnbuffered) && ProcessEnvironment.value("PYTHONUNBUFFERED") == nil {
            ProcessEnvironment.set("PYTHONUNBUFFERED", to: "1")
        }
        // Last, so that relative paths given to FlowForge (--config, --events, FLOWFORGE_STATE_DIR) meant the
        // caller's directory; the reaper, and through it the worker, inherits this one.
        if let cwd {
            do { try ProcessEnvironment.changeDirectory(cwd) } catch { throw ValidationError("--cwd: \(error)") }
        }
        try Executable.execSibling("flowforge-reaper", arguments: args)
    }
}
