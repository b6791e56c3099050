// FlowForge — the reaper's decisions as a pure state machine: events in, actions out, no I/O.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

extension FlowForgeExitCode {
    /// The code for a worker that ended on its own: its exit code, or 128+N for signal N.
    public static func forWorker(_ status: ExitStatus) -> Int32 {
        switch status {
        case .exited(let c): c
        case .signaled(let s): 128 + s
        }
    }
}

/// Whether a worker that exits on its own is started again (`--restart-on-exit`).
public enum ExitRestart: String, Sendable, Equatable, CaseIterable {
    /// The run ends with the worker (`flowforge run`'s default).
    case never
    /// Started again unless it exited with code 0 (`flowforge up`'s default for programs).
    case onFailure = "on-failure"
    /// Started again whatever its exit status.
    case always

    /// Whether a worker that ended with `status` is started again.
    public func restarts(_ status: ExitStatus) -> Bool {
        switch self {
        case .never: false
        case .always: true
        case .onFailure: status != .exited(0)
        }
    }
}

/// When FlowForge restarts a worker it tore down, and when it refuses to.
public struct RestartPolicy: Sendable, Equatable {
    /// A worker that exits on its own: never started again, unless it failed, or always. The crash-loop guard
    /// and the backoff apply as to every restart, but a generation that ran `stableRunNanos` or longer
    /// before it exited does not count towards `maxRestarts` (a job that exits after an hour's work is not
    /// a crash loop).
    public var onExit = ExitRestart.never
    /// The crash-loop guard: more than this many restarts within `windowNanos` stops FlowForge instead.
    public var maxRestarts = 5
    public var windowNanos: UInt64 = 300_000_000_000
    /// A generation that ran at least this long resets the backoff to zero.
    public var stableRunNanos: UInt64 = 60_000_000_000
    /// The second quick restart waits this long, doubling up to `maxBackoffNanos`.
    public var firstBackoffNanos: UInt64 = 500_000_000
    public var maxBackoffNanos: UInt64 = 30_000_000_000

    public init() {}
}

/// Why a generation is being torn down.
public enum StopCause: Sendable, Equatable {
    case signal(Signal)
    case workerExited(ExitStatus)
    case request(ActionKind, reason: String)
    case failure(String)
}

/// The reaper's state machine for one run: start a generation, watch it, tear it down, restart or exit.
public struct ReaperStateMachine: Sendable {
    /// Inputs.
    public enum Event: Sendable, Equatable {
        case started
        case workerSpawned(generation: UInt32, pid: Int32)
        case spawnFailed(String)
        case workerExited(generation: UInt32, status: ExitStatus)
        case stopRequested(Signal)
        case actionRequested(id: UInt64, kind: ActionKind, generation: UInt32, reason: String)
        case treeChecked(empty: Bool)
        case tick
        case spawnerLost
    }

    /// Outputs, executed by `ReaperLoop` in order.
    public enum Action: Sendable, Equatable {
        case spawnWorker(generation: UInt32)
        case signalTree(generation: UInt32, Signal)
        case checkTree(generation: UInt32)
        case finishGeneration(generation: UInt32)
        case reply(id: UInt64, ActionOutcome, String)
        case log(ReaperConfig.LogLevel, String)
        case emit(kind: EventKind, generation: UInt32, fields: [String: String])
        case exit(Int32)
    }

    enum Stage: Sendable, Equatable {
        /// The leader is gone or going; we are checking whether anything of its tree is left.
        case probing
        /// SIGTERM sent; waiting for the tree to empty until the grace deadline.
        case terminating(deadline: UInt64)
        /// SIGKILL sent; waiting for the kernel to finish, bounded.
        case killing(deadline: UInt64)
    }

    struct Stop: Sendable, Equatable {
        var cause: StopCause
        var stage: Stage
        var leaderExited: Bool
        var exitCode: Int32
        var restartAfter: Bool
        var nextCheck: UInt64
    }

    enum Phase: Sendable, Equatable {
        case idle
        case starting(generation: UInt32)
        case running(generation: UInt32, pid: Int32)
        case stopping(generation: UInt32, Stop)
        case waitingToRestart(generation: UInt32, at: UInt64)
        case exited
    }

    public let graceNanos: UInt64
    /// How long after SIGKILL we wait for the tree to disappear before giving up and reporting survivors.
    public let killTimeoutNanos: UInt64 = 2_000_000_000
    /// How often the tree is re-checked while a teardown waits.
    public let checkIntervalNanos: UInt64 = 20_000_000
    public let escalationEnabled: Bool
    /// Restart policy: the crash-loop guard and the backoff reset (see `RestartPolicy`).
    public var restartPolicy = RestartPolicy()
    private var restartTimes: [UInt64] = []
    private var quickRestarts = 0
    private var generationStartedAt: UInt64 = 0
    private(set) var phase = Phase.idle
    private(set) var generation: UInt32 = 0
    private var pendingStop: Signal?
    /// The spawner is gone: no generation can start again. The worker runs on; restarts become stops.
    public private(set) var degraded = false

    public init(graceNanos: UInt64, escalationEnabled: Bool = true) {
        self.graceNanos = graceNanos
        self.escalationEnabled = escalationEnabled
    }

    /// The live generation and its leader, if any.
    public var current: (generation: UInt32, pid: Int32)? {
        if case .running(let g, let p) = phase { return (g, p) }
        return nil
    }

    public var isStopping: Bool {
        if case .stopping = phase { return true }
        return false
    }

    /// When the loop should next deliver `.tick`.
    public var nextDeadline: UInt64? {
        if case .waitingToRestart(_, let at) = phase { return at }
        guard case .stopping(_, let stop) = phase else { return nil }
        switch stop.stage {
        case .probing: return nil
        case .terminating(let d), .killing(let d): return stop.leaderExited ? min(d, stop.nextCheck) : d
        }
    }

    public mutating func handle(_ event: Event, now: UInt64) -> [Action] {
        switch (phase, event) {
        case (.idle, .started):
            generation = 1
            phase = .starting(generation: 1)
            return [.spawnWorker(generation: 1)]

        case (.starting(let g), .workerSpawned(let sg, let pid)) where g == sg:
            phase = .running(generation: g, pid: pid)
            generationStartedAt = now
            var actions: [Action] = [.log(.debug, "worker started: pid \(pid), generation \(g)"),
                                     .emit(kind: .workerStarted, generation: g, fields: ["pid": "\(pid)"])]
            if let signal = pendingStop {
                pendingStop = nil
                actions += beginStop(generation: g, cause: .signal(signal), exitCode: FlowForgeExitCode.terminatedByFlowForge,
                                     restart: false, now: now)
            }
            return actions

        case (.starting(let g), .spawnFailed(let why)):
            phase = .exited
            return [.log(.error, why), .emit(kind: .workerSpawnFailed, generation: g, fields: ["error": why]),
                    .exit(FlowForgeExitCode.internalFailure)]

        case (.starting, .stopRequested(let signal)):
            // Nothing to tear down yet; the spawn reply will arrive and be stopped at once.
            pendingStop = signal
            return []

        case (.running(let g, _), .workerExited(let eg, let status)) where eg == g:
            let restart = restartPolicy.onExit.restarts(status) && !degraded
            let stop = Stop(cause: .workerExited(status), stage: .probing, leaderExited: true,
                            exitCode: FlowForgeExitCode.forWorker(status), restartAfter: restart, nextCheck: now)
            phase = .stopping(generation: g, stop)
            var actions: [Action] = [.emit(kind: .workerExited, generation: g, fields: statusFields(status))]
            if restart { actions.append(.log(.info, "worker exited (\(statusText(status))); --restart-on-exit \(restartPolicy.onExit.rawValue): starting it again once its tree is gone")) }
            return actions + [.checkTree(generation: g)]

        case (.waitingToRestart(let g, let at), .tick) where now >= at:
            phase = .starting(generation: g)
            return [.spawnWorker(generation: g)]

        case (.waitingToRestart(let g, _), .stopRequested(let signal)):
            phase = .exited
            return [.log(.info, "\(signal) while waiting to restart: exiting"),
                    .emit(kind: .restartCancelled, generation: g, fields: ["cause": "\(signal) to FlowForge"]),
                    .exit(FlowForgeExitCode.terminatedByFlowForge)]

        case (.running(let g, _), .stopRequested(let signal)):
            return beginStop(generation: g, cause: .signal(signal), exitCode: FlowForgeExitCode.terminatedByFlowForge,
                             restart: false, now: now)

        case (.running(let g, _), .actionRequested(let id, let kind, let target, let reason)):
            guard target == 0 || target == g else {
                return [.reply(id: id, .rejected, "generation \(target) is not running (current: \(g))")]
            }
            if kind == .restart && degraded {
                // Nothing can start a new generation: a restart would be a stop that calls itself a restart.
                var actions: [Action] = [.reply(id: id, .accepted, "stopping generation \(g) (degraded: the spawner is gone, so no restart)"),
                                         .emit(kind: .restartSuppressed, generation: g,
                                               fields: ["reason": "\(RestartSuppression.degraded.reasonPrefix): the spawner is gone; stopping instead of restarting"])]
                actions += beginStop(generation: g, cause: .request(kind, reason: reason),
                                     exitCode: FlowForgeExitCode.internalFailure, restart: false, now: now)
                return actions
            }
            var actions: [Action] = [.reply(id: id, .accepted, "\(kind == .restart ? "restarting" : "stopping") generation \(g)")]
            actions += beginStop(generation: g, cause: .request(kind, reason: reason),
                                 exitCode: FlowForgeExitCode.terminatedByFlowForge, restart: kind == .restart, now: now)
            return actions

        case (_, .actionRequested(let id, _, _, _)):
            return [.reply(id: id, .rejected, "no live worker to act on")]

        case (.stopping(let g, var stop), .stopRequested(let signal)):
            // A second signal while waiting for grace: the operator wants it gone now.
            guard case .terminating = stop.stage, escalationEnabled else { return [] }
            stop.stage = .killing(deadline: now + killTimeoutNanos)
            stop.restartAfter = false
            phase = .stopping(generation: g, stop)
            return [.log(.warn, "\(signal) again: escalating to SIGKILL now"), .signalTree(generation: g, .kill)]

        case (.stopping(let g, var stop), .workerExited(let eg, let status)) where eg == g:
            stop.leaderExited = true
            stop.nextCheck = now
            phase = .stopping(generation: g, stop)
            return [.emit(kind: .workerExited, generation: g, fields: statusFields(status)), .checkTree(generation: g)]

        case (.stopping(let g, var stop), .treeChecked(let empty)):
            if empty && stop.leaderExited { return finish(generation: g, stop, now: now) }
            switch stop.stage {
            case .probing:
                // The leader exited on its own and left descendants behind: tear them down like any stop.
                stop.stage = .terminating(deadline: now + graceNanos)
                stop.nextCheck = now + checkIntervalNanos
                phase = .stopping(generation: g, stop)
                return [.log(.info, "worker exited and left processes behind: SIGTERM to its tree"),
                        .signalTree(generation: g, .terminate)]
            case .terminating, .killing:
                stop.nextCheck = now + checkIntervalNanos
                phase = .stopping(generation: g, stop)
                return []
            }

        case (.stopping(let g, var stop), .tick):
            switch stop.stage {
            case .probing:
                return []
            case .terminating(let deadline):
                if now >= deadline {
                    guard escalationEnabled else {
                        // Test-only: escalation switched off. Give up as if the tree were gone.
                        return finish(generation: g, stop, now: now)
                    }
                    stop.stage = .killing(deadline: now + killTimeoutNanos)
                    stop.nextCheck = now + checkIntervalNanos
                    phase = .stopping(generation: g, stop)
                    return [.log(.info, "grace period over: SIGKILL to the worker's tree"),
                            .emit(kind: .teardownEscalated, generation: g, fields: [:]),
                            .signalTree(generation: g, .kill), .checkTree(generation: g)]
                }
            case .killing(let deadline):
                if now >= deadline {
                    return [.log(.error, "processes of generation \(g) survived SIGKILL for \(killTimeoutNanos / 1_000_000) ms")]
                        + finish(generation: g, stop, now: now)
                }
            }
            guard stop.leaderExited || isKilling(stop) else { return [] }
            if now >= stop.nextCheck {
                stop.nextCheck = now + checkIntervalNanos
                phase = .stopping(generation: g, stop)
                // In the killing stage every check also re-sends SIGKILL: orphans that reparented to us
                // since the last round are new targets.
                return isKilling(stop) ? [.signalTree(generation: g, .kill), .checkTree(generation: g)] : [.checkTree(generation: g)]
            }
            return []

        case (.running(let g, _), .spawnerLost):
            // A dead spawner is not a dead worker: keep it, and say that this run can no longer restart it.
            return enterDegraded(generation: g)
        case (.starting, .spawnerLost):
            phase = .exited
            return [.log(.error, "spawner lost before the worker started"), .exit(FlowForgeExitCode.internalFailure)]
        case (.stopping(let g, var stop), .spawnerLost):
            if stop.restartAfter {
                stop.restartAfter = false
                stop.exitCode = FlowForgeExitCode.internalFailure
                phase = .stopping(generation: g, stop)
            }
            return enterDegraded(generation: g)
        case (.waitingToRestart(let g, _), .spawnerLost):
            phase = .exited
            return enterDegraded(generation: g)
                + [.emit(kind: .restartCancelled, generation: g, fields: ["cause": "spawner lost"]), .exit(FlowForgeExitCode.internalFailure)]

        case (_, .tick), (.exited, _):
            return [] // nothing due; or the run is over and a late input changes nothing
        case (.starting, .treeChecked), (.waitingToRestart, .treeChecked), (.running, .treeChecked), (_, .workerExited),
             (.stopping, .spawnFailed):
            // Late or stale: a scan reply or exit status of a generation already dealt with.
            return [.log(.debug, "ignored \(event) while \(phase)")]
        default:
            // An input the loop should never deliver in this phase (a second start, a spawn reply nobody
            // asked for): say so instead of swallowing it.
            return [.log(.warn, "unexpected \(event) while \(phase); ignored")]
        }
    }

    private mutating func enterDegraded(generation g: UInt32) -> [Action] {
        guard !degraded else { return [] }
        degraded = true
        return [.log(.error, "spawner lost: the worker keeps running, degraded (no restarts, no /proc scan; teardown through the process group and cgroup only)"),
                .emit(kind: .supervisorDegraded, generation: g,
                      fields: ["reason": "spawner lost", "effect": "restarts become stops; agents are not respawned; teardown by process group and cgroup only"])]
    }

    private func isKilling(_ stop: Stop) -> Bool {
        if case .killing = stop.stage { return true }
        return false
    }

    private mutating func beginStop(generation g: UInt32, cause: StopCause, exitCode: Int32, restart: Bool, now: UInt64) -> [Action] {
        let stop = Stop(cause: cause, stage: .terminating(deadline: now + graceNanos), leaderExited: false,
                        exitCode: exitCode, restartAfter: restart, nextCheck: now + checkIntervalNanos)
        phase = .stopping(generation: g, stop)
        return [.log(.info, "stopping generation \(g) (\(describe(cause))): SIGTERM to its tree, grace \(graceNanos / 1_000_000) ms"),
                .emit(kind: .teardownStarted, generation: g, fields: ["cause": describe(cause)]),
                .signalTree(generation: g, .terminate)]
    }

    private mutating func finish(generation g: UInt32, _ stop: Stop, now: UInt64) -> [Action] {
        var actions: [Action] = [.emit(kind: .teardownFinished, generation: g, fields: ["cause": describe(stop.cause)]),
                                 .finishGeneration(generation: g)]
        if stop.restartAfter {
            restartTimes = restartTimes.filter { now &- $0 < restartPolicy.windowNanos }
            if case .workerExited = stop.cause, now &- generationStartedAt >= restartPolicy.stableRunNanos {
                restartTimes = [] // it ran long enough: an exit after real work is not part of a crash loop
            }
            if restartTimes.count >= restartPolicy.maxRestarts {
                let why = "\(RestartSuppression.crashLoop.reasonPrefix): \(restartTimes.count) restarts within \(restartPolicy.windowNanos / 1_000_000_000) s (--max-restarts \(restartPolicy.maxRestarts)); stopping instead of restarting"
                phase = .exited
                return actions + [.log(.error, why),
                                  .emit(kind: .restartSuppressed, generation: g, fields: ["reason": why, "restarts": "\(restartTimes.count)"]),
                                  .exit(FlowForgeExitCode.terminatedByFlowForge)]
            }
            restartTimes.append(now)
            // Capped exponential backoff, reset by a generation that ran long enough to count as stable.
            if now &- generationStartedAt >= restartPolicy.stableRunNanos { quickRestarts = 0 }
            let delay = quickRestarts == 0 ? 0 : min(restartPolicy.maxBackoffNanos, restartPolicy.firstBackoffNanos << UInt64(min(quickRestarts - 1, 20)))
            quickRestarts += 1
            generation = g + 1
            if delay == 0 {
                phase = .starting(generation: g + 1)
                actions.append(.spawnWorker(generation: g + 1))
            } else {
                phase = .waitingToRestart(generation: g + 1, at: now + delay)
                actions.append(.log(.info, "restarting in \(delay / 1_000_000) ms (backoff)"))
                actions.append(.emit(kind: .restartBackoff, generation: g, fields: ["backoff_seconds": "\(Double(delay) / 1e9)"]))
            }
        } else {
            phase = .exited
            actions.append(.exit(stop.exitCode))
        }
        return actions
    }

    func describe(_ cause: StopCause) -> String {
        switch cause {
        case .signal(let s): "\(s) to FlowForge"
        case .workerExited(let st): "worker exited, \(statusText(st))"
        case .request(let kind, let reason): "\(kind == .restart ? "restart" : "kill") requested: \(reason)"
        case .failure(let why): why
        }
    }
}

func statusText(_ status: ExitStatus) -> String {
    switch status {
    case .exited(let c): "exit code \(c)"
    case .signaled(let s): "killed by signal \(s)"
    }
}

func statusFields(_ status: ExitStatus) -> [String: String] {
    switch status {
    case .exited(let c): ["exit_code": "\(c)"]
    case .signaled(let s): ["signal": "\(s)"]
    }
}
