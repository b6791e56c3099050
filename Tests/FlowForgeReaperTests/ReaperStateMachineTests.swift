// FlowForge — the reaper's decisions, driven with explicit time and no processes.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeReaper
import FlowForgeSystem
import FlowForgeWire
import Testing

private let second: UInt64 = 1_000_000_000

/// A state machine already running generation 1 with leader pid 100, grace 5 s.
private func running(grace: UInt64 = 5 * second, escalation: Bool = true) -> ReaperStateMachine {
    var m = ReaperStateMachine(graceNanos: grace, escalationEnabled: escalation)
    #expect(m.handle(.started, now: 0) == [.spawnWorker(generation: 1)])
    _ = m.handle(.workerSpawned(generation: 1, pid: 100), now: 0)
    #expect(m.current?.pid == 100)
    return m
}

private func signals(_ actions: [ReaperStateMachine.Action]) -> [Signal] {
    actions.compactMap { if case .signalTree(_, let s) = $0 { s } else { nil } }
}

private func exitCode(_ actions: [ReaperStateMachine.Action]) -> Int32? {
    actions.compactMap { if case .exit(let c) = $0 { c } else { nil } }.first
}

@Suite("Reaper state machine")
struct ReaperStateMachineTests {
    @Test func sigtermThenGraceThenSigkillThenExit() {
        var m = running()
        let stop = m.handle(.stopRequested(.terminate), now: 10 * second)
        #expect(signals(stop) == [.terminate])
        #expect(m.nextDeadline == 15 * second)
        // Before the deadline nothing escalates.
        #expect(signals(m.handle(.tick, now: 14 * second)).isEmpty)
        let escalate = m.handle(.tick, now: 15 * second)
        #expect(signals(escalate) == [.kill])
        _ = m.handle(.workerExited(generation: 1, status: .signaled(9)), now: 15 * second + 1)
        let done = m.handle(.treeChecked(empty: true), now: 15 * second + 2)
        #expect(exitCode(done) == FlowForgeExitCode.terminatedByFlowForge)
    }

    /// The tree may empty before grace ends: exit at once, without SIGKILL.
    @Test func earlyExitSkipsEscalation() {
        var m = running()
        _ = m.handle(.stopRequested(.interrupt), now: 0)
        let exited = m.handle(.workerExited(generation: 1, status: .signaled(15)), now: second)
        #expect(exited.contains(.checkTree(generation: 1)))
        let done = m.handle(.treeChecked(empty: true), now: second)
        #expect(exitCode(done) == 120)
        #expect(!done.contains { if case .signalTree(_, .kill) = $0 { true } else { false } })
    }

    /// The leader exiting is not enough: a child that ignores SIGTERM keeps the teardown waiting for grace.
    @Test func leaderGoneButTreeNotEmptyStillEscalates() {
        var m = running(grace: second)
        _ = m.handle(.stopRequested(.terminate), now: 0)
        _ = m.handle(.workerExited(generation: 1, status: .exited(0)), now: 1)
        #expect(exitCode(m.handle(.treeChecked(empty: false), now: 2)) == nil)
        #expect(m.handle(.tick, now: second / 2).contains(.checkTree(generation: 1)))
        _ = m.handle(.treeChecked(empty: false), now: second / 2)
        #expect(signals(m.handle(.tick, now: second)) == [.kill])
        #expect(exitCode(m.handle(.treeChecked(empty: true), now: second + 1)) == 120)
    }

    @Test func workerExitsOnItsOwnWithItsCode() {
        var m = running()
        #expect(m.handle(.workerExited(generation: 1, status: .exited(3)), now: 0).contains(.checkTree(generation: 1)))
        #expect(exitCode(m.handle(.treeChecked(empty: true), now: 1)) == 3)
        var n = running()
        _ = n.handle(.workerExited(generation: 1, status: .signaled(9)), now: 0)
        #expect(exitCode(n.handle(.treeChecked(empty: true), now: 1)) == 137)
    }

    /// A worker that exits and leaves a daemon behind: the daemon gets SIGTERM, then SIGKILL after grace,
    /// and FlowForge still reports the worker's own exit code.
    @Test func leftoverDescendantsAreTornDownAfterANaturalExit() {
        var m = running(grace: second)
        _ = m.handle(.workerExited(generation: 1, status: .exited(0)), now: 0)
        #expect(signals(m.handle(.treeChecked(empty: false), now: 0)) == [.terminate])
        #expect(signals(m.handle(.tick, now: second)) == [.kill])
        #expect(exitCode(m.handle(.treeChecked(empty: true), now: second + 1)) == 0)
    }

    @Test func restartSpawnsTheNextGeneration() {
        var m = running()
        let actions = m.handle(.actionRequested(id: 7, kind: .restart, generation: 1, reason: "loop"), now: 0)
        #expect(actions.first == .reply(id: 7, .accepted, "restarting generation 1"))
        #expect(signals(actions) == [.terminate])
        _ = m.handle(.workerExited(generation: 1, status: .signaled(15)), now: 1)
        let next = m.handle(.treeChecked(empty: true), now: 2)
        #expect(next.contains(.spawnWorker(generation: 2)))
        #expect(exitCode(next) == nil)
        _ = m.handle(.workerSpawned(generation: 2, pid: 200), now: 3)
        #expect(m.current?.generation == 2 && m.current?.pid == 200)
    }

    /// Requests naming a generation that is not the live one are refused and change nothing.
    @Test func staleRequestsAreRejected() {
        var m = running()
        let actions = m.handle(.actionRequested(id: 1, kind: .kill, generation: 9, reason: "old"), now: 0)
        #expect(actions.count == 1)
        if case .reply(1, .rejected, _) = actions[0] {} else { Issue.record("expected a rejection, got \(actions)") }
        #expect(m.current?.pid == 100 && !m.isStopping)
    }

    /// A second SIGINT during grace escalates at once (Ctrl-C twice).
    @Test func secondSignalEscalatesImmediately() {
        var m = running()
        _ = m.handle(.stopRequested(.interrupt), now: 0)
        #expect(signals(m.handle(.stopRequested(.interrupt), now: second)) == [.kill])
    }

    /// With escalation switched off (test builds only) the machine never sends SIGKILL: the drills' negative
    /// control depends on this.
    @Test func escalationOffNeverKills() {
        var m = running(grace: second, escalation: false)
        _ = m.handle(.stopRequested(.terminate), now: 0)
        let end = m.handle(.tick, now: second)
        #expect(signals(end).isEmpty)
        #expect(exitCode(end) == 120)
    }

    /// A stop requested while the first spawn is in flight applies as soon as the worker exists.
    @Test func stopDuringStartIsNotLost() {
        var m = ReaperStateMachine(graceNanos: second)
        _ = m.handle(.started, now: 0)
        #expect(m.handle(.stopRequested(.terminate), now: 0).isEmpty)
        #expect(signals(m.handle(.workerSpawned(generation: 1, pid: 5), now: 1)) == [.terminate])
    }

    @Test func spawnFailureExitsWithInternalFailure() {
        var m = ReaperStateMachine(graceNanos: second)
        _ = m.handle(.started, now: 0)
        #expect(exitCode(m.handle(.spawnFailed("no such file"), now: 0)) == FlowForgeExitCode.internalFailure)
    }

    /// A dead spawner is not a dead worker: it runs on, the run is degraded, and its own exit ends the run.
    @Test func spawnerLossKeepsTheWorker() {
        var m = running()
        let lost = m.handle(.spawnerLost, now: 0)
        #expect(signals(lost).isEmpty)
        #expect(lost.contains { if case .emit(.supervisorDegraded, 1, _) = $0 { true } else { false } })
        #expect(m.degraded && m.current?.pid == 100)
        #expect(m.handle(.spawnerLost, now: 1).isEmpty, "reported once")
        _ = m.handle(.workerExited(generation: 1, status: .exited(3)), now: 2)
        #expect(exitCode(m.handle(.treeChecked(empty: true), now: 3)) == 3)
    }

    /// Degraded, a restart request is carried out as a stop (nothing could start the next generation).
    @Test func degradedRestartBecomesStop() {
        var m = running()
        _ = m.handle(.spawnerLost, now: 0)
        let request = m.handle(.actionRequested(id: 7, kind: .restart, generation: 0, reason: "runaway"), now: second)
        #expect(request.contains { if case .reply(7, .accepted, let d) = $0 { d.contains("no restart") } else { false } })
        #expect(request.contains { if case .emit(.restartSuppressed, 1, _) = $0 { true } else { false } })
        // Readers (ps, the incident's outcome, the metrics' reason label) tell the cause from the reason.
        #expect(request.contains { if case .emit(.restartSuppressed, _, let f) = $0 { RestartSuppression(reason: f["reason"] ?? "") == .degraded } else { false } })
        #expect(signals(request) == [.terminate])
        _ = m.handle(.workerExited(generation: 1, status: .signaled(15)), now: 2 * second)
        let end = m.handle(.treeChecked(empty: true), now: 2 * second + 1)
        #expect(!end.contains { if case .spawnWorker = $0 { true } else { false } })
        #expect(exitCode(end) == FlowForgeExitCode.internalFailure)
    }

    /// Lost in the middle of a restart's teardown: the teardown finishes, the restart does not happen.
    @Test func spawnerLostDuringRestartTeardownStops() {
        var m = running()
        _ = m.handle(.actionRequested(id: 1, kind: .restart, generation: 0, reason: "x"), now: 0)
        _ = m.handle(.spawnerLost, now: 1)
        _ = m.handle(.workerExited(generation: 1, status: .signaled(15)), now: 2)
        let end = m.handle(.treeChecked(empty: true), now: 3)
        #expect(!end.contains { if case .spawnWorker = $0 { true } else { false } })
        #expect(exitCode(end) == FlowForgeExitCode.internalFailure)
    }

    /// Lost while waiting out a restart backoff: nothing to keep running, so the run ends.
    @Test func spawnerLostWhileWaitingToRestartExits() {
        var m = running()
        m.restartPolicy.firstBackoffNanos = second
        for t in 0..<2 { // the second restart waits for its backoff
            let now = UInt64(t) * 10 * second
            _ = m.handle(.actionRequested(id: UInt64(t), kind: .restart, generation: 0, reason: "x"), now: now)
            _ = m.handle(.workerExited(generation: UInt32(t + 1), status: .signaled(15)), now: now + 1)
            let done = m.handle(.treeChecked(empty: true), now: now + 2)
            if t == 0 { _ = m.handle(.workerSpawned(generation: 2, pid: 101), now: now + 3); _ = done }
        }
        #expect(m.nextDeadline != nil)
        let lost = m.handle(.spawnerLost, now: 21 * second)
        #expect(exitCode(lost) == FlowForgeExitCode.internalFailure)
        #expect(lost.contains { if case .emit(.restartCancelled, _, _) = $0 { true } else { false } })
    }

    /// SIGKILL that does not take within the kill timeout ends the run anyway (and logs survivors).
    @Test func killTimeoutEndsTheRun() {
        var m = running(grace: second)
        _ = m.handle(.stopRequested(.terminate), now: 0)
        _ = m.handle(.tick, now: second)
        let end = m.handle(.tick, now: second + m.killTimeoutNanos)
        #expect(exitCode(end) == 120)
        #expect(end.contains { if case .log(.error, _) = $0 { true } else { false } })
    }
}

/// The restart policy with explicit time: backoff, its reset by a stable generation, and the crash-loop
/// guard's window (only integration tests covered these before).
@Suite("Restart policy")
struct RestartPolicyTests {
    /// Restarts generation `g` (started at `startedAt`) at `now`: request, leader exit, empty tree.
    /// Returns the actions of the final step.
    private func restart(_ m: inout ReaperStateMachine, generation g: UInt32, at now: UInt64) -> [ReaperStateMachine.Action] {
        _ = m.handle(.actionRequested(id: UInt64(g), kind: .restart, generation: g, reason: "test"), now: now)
        _ = m.handle(.workerExited(generation: g, status: .signaled(15)), now: now + 1)
        return m.handle(.treeChecked(empty: true), now: now + 2)
    }

    private func spawned(_ actions: [ReaperStateMachine.Action]) -> UInt32? {
        actions.compactMap { if case .spawnWorker(let g) = $0 { g } else { nil } }.first
    }

    @Test func quickRestartsBackOffExponentiallyUpToTheCap() {
        var m = running()
        m.restartPolicy.maxRestarts = 100
        var now: UInt64 = 0
        var delays: [UInt64] = []
        for g in UInt32(1)...8 {
            let done = restart(&m, generation: g, at: now)
            if let next = spawned(done) {
                #expect(next == g + 1)
                delays.append(0)
            } else {
                let at = try! #require(m.nextDeadline)
                delays.append(at - (now + 2))
                #expect(spawned(m.handle(.tick, now: at - 1)) == nil, "not before its time")
                #expect(spawned(m.handle(.tick, now: at)) == g + 1)
                now = at
            }
            _ = m.handle(.workerSpawned(generation: g + 1, pid: 100 + Int32(g)), now: now + 3)
            now += 1 * second // each generation lives 1 s: never stable
        }
        let p = RestartPolicy()
        // 0, 0.5, 1, 2, 4, 8, 16 s, then the 30 s cap.
        #expect(delays == [0, p.firstBackoffNanos, 2 * p.firstBackoffNanos, 4 * p.firstBackoffNanos, 8 * p.firstBackoffNanos,
                           16 * p.firstBackoffNanos, 32 * p.firstBackoffNanos, p.maxBackoffNanos], "\(delays.map { Double($0) / 1e9 })")
    }

    @Test func aStableGenerationResetsTheBackoff() {
        var m = running()
        m.restartPolicy.maxRestarts = 100
        #expect(spawned(restart(&m, generation: 1, at: 0)) == 2)
        _ = m.handle(.workerSpawned(generation: 2, pid: 101), now: 3)
        #expect(spawned(restart(&m, generation: 2, at: second)) == nil, "the second quick restart waits")
        let at = m.nextDeadline!
        _ = m.handle(.tick, now: at)
        _ = m.handle(.workerSpawned(generation: 3, pid: 102), now: at)
        // Generation 3 runs for the stable period: its restart is immediate again.
        let stable = at + m.restartPolicy.stableRunNanos
        #expect(spawned(restart(&m, generation: 3, at: stable)) == 4)
    }

    @Test func crashLoopGuardCountsRestartsInsideItsWindowOnly() {
        var m = running()
        m.restartPolicy.maxRestarts = 3
        m.restartPolicy.windowNanos = 60 * second
        m.restartPolicy.stableRunNanos = 10 * second // 15 s apart: every restart immediate
        var now: UInt64 = 0
        for g in UInt32(1)...3 {
            #expect(spawned(restart(&m, generation: g, at: now)) == g + 1)
            _ = m.handle(.workerSpawned(generation: g + 1, pid: 100 + Int32(g)), now: now + 3)
            now += 15 * second
        }
        // The fourth, 45 s after the first: three restarts inside the 60 s window already, so suppressed.
        let fourth = restart(&m, generation: 4, at: now)
        #expect(fourth.contains { if case .emit(.restartSuppressed, 4, _) = $0 { true } else { false } })
        #expect(fourth.contains { if case .emit(.restartSuppressed, _, let f) = $0 { RestartSuppression(reason: f["reason"] ?? "") == .crashLoop } else { false } })
        #expect(exitCode(fourth) == FlowForgeExitCode.terminatedByFlowForge)

        // The same three restarts spread over more than the window: the fourth is allowed.
        var spread = running()
        spread.restartPolicy.maxRestarts = 3
        spread.restartPolicy.windowNanos = 60 * second
        spread.restartPolicy.stableRunNanos = 10 * second
        now = 0
        for g in UInt32(1)...4 {
            #expect(spawned(restart(&spread, generation: g, at: now)) == g + 1, "restart \(g)")
            _ = spread.handle(.workerSpawned(generation: g + 1, pid: 100 + Int32(g)), now: now + 3)
            now += 25 * second
        }
    }

    /// `--restart-on-exit`: the worker exits on its own, its tree is checked empty, then what follows.
    private func exits(_ m: inout ReaperStateMachine, generation g: UInt32, _ status: FlowForgeSystem.ExitStatus, at now: UInt64) -> [ReaperStateMachine.Action] {
        _ = m.handle(.workerExited(generation: g, status: status), now: now)
        return m.handle(.treeChecked(empty: true), now: now + 1)
    }

    @Test func restartOnExitFollowsItsChoice() {
        for (choice, status, restarts) in [(ExitRestart.never, FlowForgeSystem.ExitStatus.exited(1), false), (.onFailure, .exited(0), false),
                                           (.onFailure, .exited(3), true), (.onFailure, .signaled(9), true),
                                           (.always, .exited(0), true), (.always, .signaled(15), true)] {
            var m = running()
            m.restartPolicy.onExit = choice
            let out = exits(&m, generation: 1, status, at: second)
            #expect((spawned(out) == 2) == restarts, "\(choice) after \(status)")
            #expect(restarts ? exitCode(out) == nil : exitCode(out) == FlowForgeExitCode.forWorker(status), "\(choice) after \(status)")
        }
    }

    /// Quick exits are a crash loop like quick runaway restarts; a generation that ran the stable time before it
    /// exited does not count towards the guard (a job that exits after real work restarts for ever).
    @Test func restartOnExitHasTheCrashLoopGuardButNotForStableRuns() {
        var m = running()
        m.restartPolicy.onExit = .onFailure
        m.restartPolicy.maxRestarts = 2
        m.restartPolicy.firstBackoffNanos = 0
        var now: UInt64 = second
        for g in UInt32(1)...2 {
            #expect(spawned(exits(&m, generation: g, .exited(1), at: now)) == g + 1)
            _ = m.handle(.workerSpawned(generation: g + 1, pid: 100 + Int32(g)), now: now + 2)
            now += second
        }
        let third = exits(&m, generation: 3, .exited(1), at: now)
        #expect(third.contains { if case .emit(.restartSuppressed, _, let f) = $0 { RestartSuppression(reason: f["reason"] ?? "") == .crashLoop } else { false } })
        #expect(exitCode(third) == FlowForgeExitCode.terminatedByFlowForge)

        var stable = running()
        stable.restartPolicy.onExit = .always
        stable.restartPolicy.maxRestarts = 2
        now = 0
        for g in UInt32(1)...6 {
            now += stable.restartPolicy.stableRunNanos
            #expect(spawned(exits(&stable, generation: g, .exited(0), at: now)) == g + 1, "exit \(g) after a stable run")
            now += 2
            _ = stable.handle(.workerSpawned(generation: g + 1, pid: 100 + Int32(g)), now: now)
        }
    }

    /// A degraded run (no spawner) cannot start a worker: an exit ends the run with the worker's code.
    @Test func restartOnExitInADegradedRunEnds() {
        var m = running()
        m.restartPolicy.onExit = .always
        _ = m.handle(.spawnerLost, now: second)
        #expect(exitCode(exits(&m, generation: 1, .exited(4), at: 2 * second)) == 4)
    }

    /// Inputs the loop should never deliver are not swallowed silently: a warning, and no other effect.
    @Test func unexpectedInputsAreLoggedNotSwallowed() {
        var m = running()
        for input: ReaperStateMachine.Event in [.started, .workerSpawned(generation: 7, pid: 5), .spawnFailed("late")] {
            let out = m.handle(input, now: 0)
            #expect(out.count == 1 && out.allSatisfy { if case .log(.warn, _) = $0 { true } else { false } }, "\(input): \(out)")
            #expect(m.current?.pid == 100)
        }
        // Stale inputs are expected now and then: a debug line only.
        let stale = m.handle(.workerExited(generation: 9, status: .exited(0)), now: 0)
        #expect(stale.allSatisfy { if case .log(.debug, _) = $0 { true } else { false } })
        #expect(m.handle(.tick, now: 0).isEmpty)
    }
}
