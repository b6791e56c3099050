// FlowForge — the reaper's request policy, incident ledger, rollout draw and scan bookkeeping, without
// processes: the loop only carries out what these values decide.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeReaper
import FlowForgeSystem
import FlowForgeWire
import Testing

private func emitted(_ steps: [ActionRequestPolicy.Step]) -> [(EventKind, String?)] {
    steps.compactMap { if case .emit(let k, let i, _) = $0 { (k, i) } else { nil } }
}

@Suite("Reaper action policy")
struct ActionPolicyTests {
    let detectorKill = ActionRequest(role: .detector, id: 7, kind: .kill, generation: 0, reason: "runaway")
    let operatorRestart = ActionRequest(role: .api, id: 3, kind: .restart, generation: 1, reason: "by hand")

    @Test func incidentIdsAreDerivedFromTheRequester() {
        let ledger = IncidentLedger(runID: "sent")
        #expect(ledger.id(for: .detector, actionID: 7) == "sent-7")
        #expect(ledger.id(for: .api, actionID: 3) == "sent-op3")
    }

    @Test func anIncidentLastsUntilTheNextGenerationStarts() {
        var ledger = IncidentLedger(runID: "sent")
        #expect(ledger.tag(.teardownStarted) == nil)
        ledger.open("sent-7")
        for kind in [EventKind.teardownStarted, .teardownSignal, .workerExited, .teardownFinished] {
            #expect(ledger.tag(kind) == "sent-7")
        }
        #expect(ledger.tag(.workerStarted) == "sent-7", "the new generation's start is the incident's last event")
        #expect(ledger.tag(.sample) == nil && ledger.active == nil)
    }

    @Test func enforcedRequestsAreDecidedByTheStateMachine() {
        let policy = ActionRequestPolicy(rollout: .enforce, detectorEnforced: true)
        guard case .decide(let before, let incident) = policy.plan(detectorKill, incident: "sent-7", canAct: true, workerPID: 42) else {
            Issue.record("an enforced request goes to the state machine")
            return
        }
        #expect(incident == "sent-7")
        #expect(emitted(before).map(\.0) == [.actionRequested] && emitted(before).first?.1 == "sent-7")
        let accepted = policy.settle(detectorKill, incident: incident, accepted: true)
        #expect(accepted == [.emit(.policyDecision, incident: "sent-7",
                                   fields: ["action_id": "7", "decision": "kill", "mode": "enforce", "enforced": "true"])])
        // A refusal is recorded outside any incident: it must not join (or open) one.
        let refused = policy.settle(detectorKill, incident: incident, accepted: false)
        #expect(emitted(refused).map(\.0) == [.actionRejected] && emitted(refused).first?.1 == nil)
    }

    @Test func operatorRequestsAreEnforcedInEveryModeAndSaySo() {
        for rollout in [ReaperConfig.Rollout.shadow, .canary, .enforce] {
            let policy = ActionRequestPolicy(rollout: rollout, detectorEnforced: false)
            guard case .decide = policy.plan(operatorRestart, incident: "sent-op3", canAct: true, workerPID: 42) else {
                Issue.record("operator requests are carried out under \(rollout)")
                continue
            }
            let settled = policy.settle(operatorRestart, incident: "sent-op3", accepted: true)
            guard case .emit(.policyDecision, _, let fields)? = settled.first else {
                Issue.record("no policy decision")
                continue
            }
            #expect(fields["mode"] == "operator" && fields["decision"] == "restart")
        }
    }

    @Test func shadowRequestsAreAnsweredWithoutTheStateMachine() {
        let policy = ActionRequestPolicy(rollout: .shadow, detectorEnforced: false)
        guard case .answered(let steps) = policy.plan(detectorKill, incident: "sent-7", canAct: true, workerPID: 42) else {
            Issue.record("a shadow request never reaches the state machine")
            return
        }
        #expect(emitted(steps).map(\.0) == [.actionRequested, .policyDecision])
        #expect(emitted(steps).allSatisfy { $0.1 == "sent-7" })
        #expect(steps.contains(.reply(.rejected, "shadow: would kill")))
        #expect(steps.contains { if case .emit(.policyDecision, _, let f) = $0 { f["decision"] == "would_kill" && f["enforced"] == "false" } else { false } })
    }

    @Test func aRequestDuringATeardownRecordsNoRequestEvent() {
        let policy = ActionRequestPolicy(rollout: .enforce, detectorEnforced: true)
        guard case .decide(let before, _) = policy.plan(detectorKill, incident: "sent-7", canAct: false, workerPID: 0) else {
            Issue.record("still decided (and refused) by the state machine")
            return
        }
        #expect(emitted(before).isEmpty)
    }

    @Test func theCanaryDrawIsTheSeedModuloAHundred() {
        let inside = RolloutDecision(rollout: .canary, canaryPercent: 10, seed: 1_209)
        #expect(inside.detectorEnforced && inside.fields["draw"] == "9" && inside.fields["seed"] == "1209")
        let outside = RolloutDecision(rollout: .canary, canaryPercent: 10, seed: 1_210)
        #expect(!outside.detectorEnforced && outside.fields["enforced"] == "false")
        #expect(RolloutDecision(rollout: .enforce, canaryPercent: 0, seed: 5).detectorEnforced)
        #expect(!RolloutDecision(rollout: .shadow, canaryPercent: 100, seed: 5).detectorEnforced)
        #expect(RolloutDecision(rollout: .shadow, canaryPercent: 100, seed: 5).fields["seed"] == nil)
        #expect(!RolloutDecision(rollout: .canary, canaryPercent: 0, seed: 0).detectorEnforced)
        #expect(RolloutDecision(rollout: .canary, canaryPercent: 100, seed: 99).detectorEnforced)
    }
}

@Suite("Reaper scan bookkeeping")
struct TreeScanTests {
    @Test func oneScanInFlightAndRequestsMadeMeanwhileAreAnsweredThenRescanned() {
        var scan = TreeScan()
        let sent = scan.signal(.terminate)
        #expect(sent, "the first request sends a scan")
        let sentAgain = scan.check()
        #expect(!sentAgain, "a second request waits for the one in flight")
        #expect(scan.busy)
        let reply = scan.replied()
        #expect(reply == TreeScan.Reply(signal: .terminate, check: true, scanAgain: true))
        #expect(scan.inFlight, "the rescan is in flight once asked for")
        let rescan = scan.replied()
        #expect(rescan == TreeScan.Reply(signal: nil, check: false, scanAgain: false))
        #expect(!scan.busy)
    }

    @Test func sigkillWinsOverSigtermUntilSent() {
        var scan = TreeScan()
        let sentKill = scan.signal(.kill)
        #expect(sentKill)
        let sentTerm = scan.signal(.terminate)
        #expect(!sentTerm)
        let first = scan.replied().signal
        #expect(first == .kill)
        let sentDuringRescan = scan.signal(.terminate)
        #expect(!sentDuringRescan, "the rescan is in flight")
        let second = scan.replied().signal
        #expect(second == .terminate)
    }

    @Test func afterCgroupKillTheSignalWaitsForTheCheckScan() {
        var scan = TreeScan()
        scan.signalWithNextScan(.kill)
        #expect(scan.busy && !scan.inFlight, "pending, but no scan asked for")
        let sent = scan.check()
        #expect(sent)
        let reply = scan.replied()
        #expect(reply == TreeScan.Reply(signal: .kill, check: true, scanAgain: false))
    }

    @Test func withoutASpawnerAPendingCheckIsHandedBack() {
        var scan = TreeScan()
        _ = scan.signal(.kill)
        _ = scan.check()
        let hadCheck = scan.abandon()
        #expect(hadCheck)
        #expect(scan == TreeScan())
        let stillPending = scan.abandon()
        #expect(!stillPending)
    }
}
