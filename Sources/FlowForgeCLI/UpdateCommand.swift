// FlowForge — `flowforge update`: make the running fleet what the (edited) config file says.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeConfig
import FlowForgeSystem
import FlowForgeWire
import Foundation

/// `flowforge update [--config FILE] [--grace S]`: supervisorctl's `update`.
struct UpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Apply the edited config file: start what it adds, stop what it removes, restart what it changes.",
        discussion: """
            Compares the running instances with the file (the one the last flowforge up used, unless --config \
            or FLOWFORGE_CONFIG names another) and, per instance: one whose definition changed (command, args, \
            cwd, environment, user, group, or any setting its flowforge run reads, the file's own sections \
            included) is stopped and started again, a new run; one the file no longer has (its program \
            removed, or instances: lowered) is stopped; one the file adds is started; the rest are left alone \
            and said to be unchanged. An instance started before FlowForge recorded definitions is left alone \
            with a note (flowforge restart NAME --grace S applies the file to it).

            Stops go through each run's control socket as flowforge stop's do (reason "flowforge update"), \
            within the program's grace, or at most --grace seconds. Bad config exits 64 and changes nothing. \
            Runs whose names belong to no program of the fleet are never touched.

            Examples:
              flowforge update
              flowforge update --config /etc/flowforge/fleet.yaml --grace 5
            """
    )

    @Option(help: "The fleet's config file (default: FLOWFORGE_CONFIG, else the one the last flowforge up used).")
    var config: String?

    @Option(help: "Seconds to wait before SIGKILL when stopping (at most the program's own grace).")
    var grace: Double?

    func validate() throws {
        if let grace, !(grace.isFinite && (0...3600).contains(grace)) { throw ValidationError("--grace must be 0-3600 seconds") }
    }

    func run() throws {
        ProcessEnvironment.scrub("FLOWFORGE_API_KEY") // as up: no instance serves HTTP
        let state = try Fleet.stateDirectory()
        let fleet = try Fleet.config(config, state: state)
        guard !fleet.programs.isEmpty else { throw ValidationError("\(fleet.path) has no programs: section (docs/fleet.md)") }
        let launcher = InstanceLauncher(config: fleet, state: state, diagnostics: -1)
        for program in fleet.programs { try launcher.validate(program) }
        try Fleet.ensureLogDirectory(state: state)

        let lock = try Fleet.lock(state: state) // no up, restart or update starts anything meanwhile
        defer { Fleet.unlock(lock) }
        let previous = FleetRecord.read(state: state)
        let plan = UpdatePlan(fleet: fleet, previous: previous, live: Fleet.liveRuns(state: state), definition: launcher.definition)
        for line in plan.notes { UpCommand.out(line) }
        var failed = false
        var toStart = plan.missing
        if !plan.stops.isEmpty {
            let outcomes = FleetControl.stop(plan.stops.map(\.run), grace: grace, reason: "flowforge update")
            for stop in plan.stops {
                let outcome = outcomes[stop.run.runID] ?? "?"
                UpCommand.out("\(stop.run.name): \(stop.why): \(outcome)")
                if !outcome.hasPrefix("stopped") { failed = true } else if let again = stop.startAgain { toStart.append(again) }
            }
        }
        var started: [LaunchedInstance] = []
        for (program, instance) in toStart.sorted(by: { ($0.program.name, $0.instance) < ($1.program.name, $1.instance) }) {
            do { started.append(try launcher.launch(program, instance: instance)) } catch {
                UpCommand.out("\(program.name):\(instance): FAILED to start: \(error)")
                failed = true
            }
        }
        let ready = UpCommand.waitUntilLive(started, state: state, known: Set(plan.unchanged.map(\.socket)))
        if !UpCommand.report(started, ready) { failed = true }
        FleetRecord.applied(fleet, previous: previous, kept: plan.unchanged.map(\.name), started: started).write(state: state)
        if plan.stops.isEmpty && started.isEmpty && !failed { UpCommand.out("nothing to do: the running fleet is what \(fleet.path) says") }
        if failed { throw ExitCode(FlowForgeExitCode.internalFailure) }
    }
}

/// What `update` does, decided from the file, the record of the last start and the live runs (no side effects).
struct UpdatePlan {
    struct Stop {
        let run: LiveRun
        let why: String
        /// Set when the instance is stopped to start again with its new definition.
        let startAgain: (program: Program, instance: Int)?
    }

    var stops: [Stop] = []
    /// Instances the file has and nothing runs.
    var missing: [(program: Program, instance: Int)] = []
    /// Live runs left as they are.
    var unchanged: [LiveRun] = []
    var notes: [String] = []

    init(fleet: FleetConfig, previous: FleetRecord?, live: [LiveRun], definition: (Program) -> String) {
        let formerPrograms = Set((previous?.instances ?? []).compactMap { WorkerName($0)?.program })
        let wanted = Set(fleet.instanceNames)
        var running = Set<String>()
        for run in live {
            guard let name = WorkerName(run.name), let instance = name.instance else { continue }
            let program = fleet.programs.first { $0.name == name.program }
            guard program != nil || formerPrograms.contains(name.program) else { continue } // not the fleet's
            guard let program, wanted.contains(run.name) else {
                stops.append(Stop(run: run, why: "removed from \(fleet.path)", startAgain: nil))
                continue
            }
            running.insert(run.name)
            switch previous?.definitions?[run.name] {
            case definition(program)?:
                unchanged.append(run)
                notes.append("\(run.name): unchanged (run \(run.runID))")
            case .some:
                stops.append(Stop(run: run, why: "changed in \(fleet.path)", startAgain: (program, instance)))
            case nil:
                unchanged.append(run)
                notes.append("\(run.name): left alone: started before its definition was recorded (flowforge restart \(run.name) --grace S applies the file)")
            }
        }
        missing = fleet.allInstances.filter { !running.contains("\($0.program.name):\($0.instance)") }
    }
}
