// FlowForge — `flowforge up`: start every program instance of the config file that is not already running.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeConfig
import FlowForgeSystem
import FlowForgeWire
import Foundation

/// `flowforge up [--config FILE] [--foreground] [NAME[:INSTANCE]...]`.
struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start the config file's programs: every instance not already running.",
        discussion: """
            Each instance NAME:N runs exactly as `flowforge run --config FILE --program NAME --name NAME:N \
            --cwd DIR -- COMMAND` would, in its own session with its own reaper; its stdout and stderr go to \
            logs/NAME:N.out.log and .err.log in the state directory (see flowforge logs). An instance whose \
            name is already running in the state directory is adopted, not started again. Runs whose names \
            the file does not define are left alone.

            Without --foreground, up returns once every started instance answers on its control socket (exit \
            0), or says which did not start (exit 111). With --foreground it stays attached and, on SIGTERM, \
            SIGINT or SIGHUP, stops the instances it started, and those the fleet's restart or update started \
            since (each reaper tears down its worker's tree with the program's grace), and exits once they \
            are gone: the mode for systemd (config/flowforge-up.service). Instances it adopted are left alone.

            Bad config (an unknown key, a bad name, instances: 0, a command not found) exits 64 and starts \
            nothing.

            Examples:
              flowforge up --config /etc/flowforge/fleet.yaml
              flowforge up --config fleet.yaml consumer crawler:1
              flowforge up --config fleet.yaml --foreground

            `flowforge start NAME...` is the same command (supervisorctl's and pm2's word for it).
            """,
        aliases: ["start"]
    )

    @Option(help: "The config file with a programs: section (also FLOWFORGE_CONFIG).")
    var config: String?

    @Flag(help: "Stay attached; stop the started instances on SIGTERM, SIGINT or SIGHUP, then exit.")
    var foreground = false

    @Argument(help: "Programs (NAME) or instances (NAME:N) to start; default: all.")
    var names: [String] = []

    func run() throws {
        // Before any thread exists (the status queries below start some), so no signal is taken by default.
        let signals = foreground ? try SignalFD.open() : -1
        // Nothing up starts serves HTTP (programs take no --listen): no process of the fleet, the long-lived
        // attached up and the log writers included, needs the API key in its /proc/PID/environ.
        ProcessEnvironment.scrub("FLOWFORGE_API_KEY")
        let fleet = try FleetConfig.load(config)
        guard !fleet.programs.isEmpty else { throw ValidationError("\(fleet.path) has no programs: section (docs/fleet.md)") }
        let targets = try fleet.instances(matching: names)
        let state = try Fleet.stateDirectory()
        let launcher = InstanceLauncher(config: fleet, state: state, diagnostics: foreground ? 2 : -1)
        for program in fleet.programs where targets.contains(where: { $0.program.name == program.name }) {
            try launcher.validate(program)
        }
        try Fleet.ensureLogDirectory(state: state)

        // Two ups at once (systemd's and an operator's) would both find a name free and start it twice.
        // Released below (an attached up holds it only while starting); a throw ends the process, and the lock.
        let lock = try Fleet.lock(state: state)
        let previous = FleetRecord.read(state: state)
        let live = Fleet.liveRuns(state: state)
        FleetRecord.applied(fleet, previous: previous, kept: live.map(\.name), started: []).write(state: state)
        var started: [LaunchedInstance] = []
        var failed = false
        for (program, instance) in targets {
            let name = "\(program.name):\(instance)"
            if let run = live.first(where: { $0.name == name }) {
                UpCommand.out("\(name): running (adopted; run \(run.runID), pid \(run.workerPID))")
                continue
            }
            do { started.append(try launcher.launch(program, instance: instance)) } catch {
                UpCommand.out("\(name): FAILED to start: \(error)")
                failed = true
            }
        }
        for run in live where !fleet.instanceNames.contains(run.name) {
            let program = run.name.split(separator: ":").first.map(String.init) ?? ""
            if fleet.programs.contains(where: { $0.name == program }) {
                UpCommand.out("\(run.name): running but not in \(fleet.path) (instances reduced?); left alone: flowforge stop \(run.name)")
            }
        }
        let ready = UpCommand.waitUntilLive(started, state: state, known: Set(live.map(\.socket)))
        if !UpCommand.report(started, ready) { failed = true }
        FleetRecord.applied(fleet, previous: previous, kept: live.map(\.name), started: started).write(state: state)
        Fleet.unlock(lock)
        guard foreground else {
            if failed { throw ExitCode(FlowForgeExitCode.internalFailure) }
            return
        }
        let alive = started.filter { if case .exited? = ready[$0.name] { false } else { true } }
        try Foreground(signals: signals, instances: alive, logWriters: started.map(\.logWriter), state: state,
                       adopted: Set(live.map(\.name))).run()
    }

    /// One line on stdout, written at once (print's buffer would hold it back from a pipe or the journal
    /// for as long as an attached `up` runs).
    static func out(_ line: String) { try? FileIO.writeAll(1, line + "\n") }

    static let startTimeout = 15.0

    enum Readiness {
        case live(LiveRun)
        case exited(ExitStatus)
    }

    /// Waits until each started instance answers on a control socket with its name, or its `flowforge run`
    /// exits (bad options, no state directory: its log says why).
    static func waitUntilLive(_ started: [LaunchedInstance], state: String, known: Set<String>) -> [String: Readiness] {
        var out: [String: Readiness] = [:]
        let deadline = Date().addingTimeInterval(startTimeout)
        while out.count < started.count && Date() < deadline {
            for instance in started where out[instance.name] == nil {
                if let status = try? Pidfd.exitStatus(instance.reaper.pidfd, peek: false) { out[instance.name] = .exited(status) }
            }
            let pending = Set(started.map(\.name)).subtracting(out.keys)
            if !pending.isEmpty {
                for run in Fleet.liveRuns(state: state) where pending.contains(run.name) && !known.contains(run.socket) && run.live {
                    out[run.name] = .live(run)
                }
            }
            if out.count < started.count { usleep(100_000) }
        }
        return out
    }

    /// One line per started instance: started, ended at once, or silent. Returns whether all of them run.
    static func report(_ started: [LaunchedInstance], _ ready: [String: Readiness]) -> Bool {
        var all = true
        for instance in started {
            switch ready[instance.name] {
            case .live(let run)?: out("\(instance.name): started (run \(run.runID), pid \(run.workerPID))")
            case .exited(let status)?:
                all = false
                out("\(instance.name): FAILED: ended at once, flowforge run \(describe(status)); see flowforge logs \(instance.name)")
            case nil:
                all = false
                out("\(instance.name): did not answer on a control socket within \(Int(startTimeout)) s (pid \(instance.reaper.pid)); see flowforge logs \(instance.name)")
            }
        }
        return all
    }

    static func describe(_ status: ExitStatus) -> String {
        switch status {
        case .exited(let code): "exited with \(code)\(code == FlowForgeExitCode.usage ? " (bad options)" : code == FlowForgeExitCode.internalFailure ? " (FlowForge failed)" : "")"
        case .signaled(let signal): "was killed by signal \(signal)"
        }
    }
}

extension Fleet {
    /// Takes `up.lock` in the state directory (flock, exclusive), waiting for another `up` or `restart` that
    /// is starting instances. Returns the descriptor to pass to `unlock`.
    static func lock(state: String) throws -> Int32 {
        let path = state + "/up.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ValidationError("cannot open \(path): \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        return fd
    }

    /// Releases a lock from `lock(state:)`.
    static func unlock(_ fd: Int32) { FileIO.close(fd) }

    /// `logs/` in the state directory: created 0700, and refused unless it is ours alone (like `runs/`).
    static func ensureLogDirectory(state: String) throws {
        let dir = state + "/logs"
        if mkdir(dir, 0o700) != 0 && errno != EEXIST { throw ValidationError("cannot create \(dir): \(String(cString: strerror(errno)))") }
        do { try StateDirectory.checkPrivate(dir) } catch { throw ValidationError("\(error)") }
    }
}
