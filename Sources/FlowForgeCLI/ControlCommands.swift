// FlowForge — `flowforge stop` and `flowforge restart`: act on instances through their runs' control sockets.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeStore
import FlowForgeSystem
import FlowForgeWire
import Foundation

/// `flowforge stop NAME|NAME:N|all... [--grace S]`.
struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop instances: their workers' trees are torn down and their runs exit.",
        discussion: """
            NAME stops every live instance of a program, NAME:N one instance (or any live run of that name), \
            all every live instance of the fleet's programs. Each run gets a kill request on its control \
            socket (recorded as an operator action with the reason "flowforge stop"): SIGTERM to the worker's \
            tree, the program's grace, SIGKILL, and the run exits 120. stop returns when the runs are gone.

            --grace S waits at most S seconds before the SIGKILL: after S seconds each run still stopping is \
            sent SIGTERM, which makes its reaper SIGKILL the tree at once. It shortens the program's grace, it \
            cannot lengthen it.

            Examples:
              flowforge stop consumer:2
              flowforge stop all --grace 2
            """
    )

    @Argument(help: "NAME, NAME:INSTANCE or all.")
    var targets: [String]

    @Option(help: "Seconds to wait before SIGKILL (at most the program's own grace).")
    var grace: Double?

    @Option(help: "The fleet's config file (default: FLOWFORGE_CONFIG, else the one the last flowforge up used).")
    var config: String?

    func validate() throws {
        guard !targets.isEmpty else { throw ValidationError("name what to stop: NAME, NAME:INSTANCE or all") }
        if let grace, !(grace.isFinite && (0...3600).contains(grace)) { throw ValidationError("--grace must be 0-3600 seconds") }
    }

    func run() throws {
        let state = Executable.absolute(StateDirectory.path())
        let selection = try FleetSelection(targets: targets, state: state, config: config)
        for name in selection.notRunning { print("\(name): not running") }
        let outcomes = FleetControl.stop(selection.live, grace: grace)
        var failed = false
        for run in selection.live {
            print("\(run.name): \(outcomes[run.runID] ?? "?")")
            if outcomes[run.runID]?.hasPrefix("stopped") != true { failed = true }
        }
        if failed { throw ExitCode(FlowForgeExitCode.internalFailure) }
    }
}

/// `flowforge restart NAME|NAME:N|all... [--grace S]`.
struct RestartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restart",
        abstract: "Restart instances: a running one in place, a stopped one from the fleet's config.",
        discussion: """
            A running instance gets a restart request on its control socket: the same run stops its worker's \
            tree (SIGTERM, the program's grace, SIGKILL) and starts a new generation; ps counts it in \
            RESTARTS. A configured instance that is not running is started, as flowforge up would. restart \
            returns when each instance runs again.

            --grace S makes it a stop (escalating to SIGKILL after S seconds, as flowforge stop --grace does) \
            followed by a start: a new run.

            Examples:
              flowforge restart consumer
              flowforge restart crawler:1 --grace 1
            """
    )

    @Argument(help: "NAME, NAME:INSTANCE or all.")
    var targets: [String]

    @Option(help: "Stop with at most this grace, then start again (a new run).")
    var grace: Double?

    @Option(help: "The fleet's config file (default: FLOWFORGE_CONFIG, else the one the last flowforge up used).")
    var config: String?

    func validate() throws {
        guard !targets.isEmpty else { throw ValidationError("name what to restart: NAME, NAME:INSTANCE or all") }
        if let grace, !(grace.isFinite && (0...3600).contains(grace)) { throw ValidationError("--grace must be 0-3600 seconds") }
    }

    func run() throws {
        let state = Executable.absolute(StateDirectory.path())
        let selection = try FleetSelection(targets: targets, state: state, config: config)
        var failed = false
        var toStart = selection.notRunning
        if grace != nil {
            let outcomes = FleetControl.stop(selection.live, grace: grace)
            for run in selection.live {
                guard outcomes[run.runID]?.hasPrefix("stopped") == true else {
                    UpCommand.out("\(run.name): \(outcomes[run.runID] ?? "?")")
                    failed = true
                    continue
                }
                UpCommand.out("\(run.name): \(outcomes[run.runID]!)")
                toStart.append(run.name)
            }
        } else {
            for run in selection.live {
                let outcome = FleetControl.restartInPlace(run, state: state)
                UpCommand.out("\(run.name): \(outcome)")
                if !outcome.hasPrefix("restarted") { failed = true }
            }
        }
        if !toStart.isEmpty {
            let fleet = try Fleet.config(config, state: state)
            let launcher = InstanceLauncher(config: fleet, state: state, diagnostics: -1)
            let lock = try Fleet.lock(state: state)
            defer { Fleet.unlock(lock) }
            var started: [LaunchedInstance] = []
            for name in toStart {
                guard let parsed = WorkerName(name), let instance = parsed.instance, let program = fleet.programs.first(where: { $0.name == parsed.program }),
                      instance <= program.instances else {
                    UpCommand.out("\(name): not in \(fleet.path); start it yourself (flowforge run)")
                    failed = true
                    continue
                }
                try launcher.validate(program)
                try Fleet.ensureLogDirectory(state: state)
                do { started.append(try launcher.launch(program, instance: instance)) } catch {
                    UpCommand.out("\(name): FAILED to start: \(error)")
                    failed = true
                }
            }
            let ready = UpCommand.waitUntilLive(started, state: state, known: Set(selection.live.map(\.socket)))
            if !UpCommand.report(started, ready) { failed = true }
            // The started instances run the file as it is now; the others keep the definitions they had (a
            // stopped one's is never read: update starts it afresh).
            let previous = FleetRecord.read(state: state)
            if previous?.config == fleet.path {
                FleetRecord.applied(fleet, previous: previous, kept: fleet.instanceNames, started: started).write(state: state)
            }
        }
        if failed { throw ExitCode(FlowForgeExitCode.internalFailure) }
    }
}

/// The runs and configured instances a list of NAME / NAME:N / all picks.
struct FleetSelection {
    /// Live runs picked, each once.
    var live: [LiveRun] = []
    /// Configured instances picked that are not live.
    var notRunning: [String] = []

    /// - Throws: `ValidationError` (exit 64) for a selector that matches nothing live and nothing configured.
    init(targets: [String], state: String, config: String?) throws {
        let runs = Fleet.liveRuns(state: state)
        let configured = try Fleet.configuredNames(config: config, state: state)
        let programs = Set(configured.compactMap { WorkerName($0)?.program })
        for selector in targets {
            // `all` is the fleet: every live run of a configured program, and every configured instance.
            let liveHits = runs.filter { run in
                selector == "all" ? programs.contains(WorkerName(run.name)?.program ?? "") : Fleet.matches(run.name, selector)
            }
            let configuredHits = configured.filter { Fleet.matches($0, selector) }
            guard !liveHits.isEmpty || !configuredHits.isEmpty else {
                throw ValidationError("\(selector): no live run and no configured instance by that name (see flowforge ps)")
            }
            for run in liveHits where !live.contains(where: { $0.runID == run.runID }) { live.append(run) }
            for name in configuredHits where !runs.contains(where: { $0.name == name }) && !notRunning.contains(name) { notRunning.append(name) }
        }
    }
}

enum FleetControl {
    /// Stops `runs` together: a kill request to each (recorded with `reason`), then a wait for each reaper to exit; with `grace`, a
    /// SIGTERM to each reaper still there after `grace` seconds (its teardown then SIGKILLs the tree at once).
    /// Returns an outcome per run id ("stopped ...", or what went wrong).
    static func stop(_ runs: [LiveRun], grace: Double?, reason: String = "flowforge stop") -> [String: String] {
        // Pinned before the request: a pid the request frees could be reused by the time we signal it.
        let pidfds = runs.map { $0.reaperPID > 0 ? Pidfd.open($0.reaperPID) : nil }
        let replies = UnsafeSendableBox([String?](repeating: nil, count: runs.count))
        let lock = NSLock()
        let sockets = runs.map(\.socket)
        DispatchQueue.concurrentPerform(iterations: runs.count) { i in
            let reply = ControlClient.request(sockets[i], ["op": "kill", "reason": reason])
            var problem: String?
            if let error = reply?["error"] as? String { problem = error } else if reply == nil { problem = "no reply" }
            lock.lock()
            replies.value[i] = problem
            lock.unlock()
        }
        let started = Date()
        var outcomes: [String: String] = [:]
        for (i, run) in runs.enumerated() where replies.value[i] != nil {
            // Between generations (restart backoff) there is no worker to kill: stop the run itself.
            if let fd = pidfds[i] { _ = try? Pidfd.signal(fd, .terminate) } else { outcomes[run.runID] = "not stopped: \(replies.value[i]!)" }
        }
        var escalated = false
        var pending = Set(runs.indices.filter { pidfds[$0] != nil })
        // The reaper bounds its own teardown (grace at most 3600 s, then 2 s of SIGKILL rounds).
        let deadline = started.addingTimeInterval((grace ?? 3600) + 10)
        while !pending.isEmpty && Date() < deadline {
            var descriptors = pending.sorted().map { PollDescriptor(fd: pidfds[$0]!, events: .readable) }
            _ = try? Poll.wait(&descriptors, timeoutMillis: 100)
            for d in descriptors where d.revents.contains(.readable) {
                guard let i = runs.indices.first(where: { pidfds[$0] == d.fd }) else { continue }
                pending.remove(i)
                let took = String(format: "%.1f", Date().timeIntervalSince(started))
                outcomes[runs[i].runID] = "stopped (run \(runs[i].runID), \(took) s\(escalated ? ", SIGKILL after --grace" : ""))"
            }
            if let grace, !escalated, Date().timeIntervalSince(started) >= grace, !pending.isEmpty {
                escalated = true
                for i in pending { _ = try? Pidfd.signal(pidfds[i]!, .terminate) }
            }
        }
        for i in pending { outcomes[runs[i].runID] = "still stopping after \(Int(Date().timeIntervalSince(started))) s (reaper pid \(runs[i].reaperPID))" }
        for case let fd? in pidfds { FileIO.close(fd) }
        return outcomes
    }

    /// Asks `run` to restart its worker and waits (up to a minute) for the new generation.
    static func restartInPlace(_ run: LiveRun, state: String) -> String {
        guard let reply = ControlClient.request(run.socket, ["op": "restart", "reason": "flowforge restart"]) else {
            return "no reply on its control socket"
        }
        if let error = reply["error"] as? String { return "not restarted: \(error)" }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            guard let status = ControlClient.request(run.socket, ["op": "status"], timeoutMillis: 1000) else {
                return "stopped instead of restarting (the run ended; see flowforge ps)"
            }
            let now = LiveRun(socket: run.socket, status: status)
            if now.live && now.generation > run.generation { return "restarted (generation \(now.generation), pid \(now.workerPID))" }
            usleep(100_000)
        }
        return "restart requested; generation \(run.generation + 1) not running after 60 s"
    }
}
