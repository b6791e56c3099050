// FlowForge — the reaper trusts no agent: what the gate accepts and drops, with explicit time.
// SPDX-License-Identifier: Apache-2.0
@testable import FlowForgeReaper
import FlowForgeWire
import Testing

private let second: UInt64 = 1_000_000_000

private func event(_ kind: String, generation: UInt32 = 1, wallNanos: Int64 = 0, _ fields: [String: String] = [:]) -> Event {
    try! Event(kind: kind, generation: generation, wallNanos: wallNanos,
               fields: fields.sorted { $0.key < $1.key }.map { Field(key: $0.key, value: $0.value) })
}

@Suite("Agent event gate")
struct AgentEventGateTests {
    @Test func detectorMayReportSamplesAndItsIncidentsOnly() {
        var gate = AgentEventGate(role: .detector, runID: "r1")
        #expect(gate.admit(event("sample", ["cpu_percent": "99"]), currentGeneration: 1, now: 0) == .accept)
        for forged in ["worker.exited", "worker.started", "teardown.finished", "action.requested", "run.policy", "agent.rejected", "x"] {
            #expect(gate.admit(event(forged), currentGeneration: 1, now: 0) == .drop(.kind), "\(forged)")
        }
        #expect(gate.total == 7)
    }

    /// The worker's sd_notify messages (`worker.notify`) pass without an incident, and never with one: an
    /// incident id would put them in that incident's chain (the fuzzer found the first version accepting it).
    @Test func workerNotifyBelongsToNoIncident() {
        var gate = AgentEventGate(role: .detector, runID: "r1")
        #expect(gate.admit(event("worker.notify", ["ready": "1", "status": "serving"]), currentGeneration: 1, now: 0) == .accept)
        #expect(gate.admit(event("worker.notify", ["status": "x", "incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .drop(.field))
    }

    @Test func apiAgentSendsNoEvents() {
        var gate = AgentEventGate(role: .api, runID: "r1")
        for kind in ["sample", "incident.opened", "policy.decision", "worker.exited"] {
            #expect(gate.admit(event(kind, ["incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .drop(.kind))
        }
    }

    @Test func generationMustHaveStarted() {
        var gate = AgentEventGate(role: .detector, runID: "r1")
        #expect(gate.admit(event("sample", generation: 0), currentGeneration: 3, now: 0) == .drop(.generation))
        #expect(gate.admit(event("sample", generation: 4), currentGeneration: 3, now: 0) == .drop(.generation))
        #expect(gate.admit(event("sample", generation: .max), currentGeneration: 3, now: 0) == .drop(.generation))
        #expect(gate.admit(event("sample", generation: 2), currentGeneration: 3, now: 0) == .accept) // a late one
    }

    /// The agent's clock is not checked here: the reaper re-stamps every accepted event.
    @Test func anyWallClockIsAcceptedBecauseTheReaperRestampsIt() {
        var gate = AgentEventGate(role: .detector, runID: "r1")
        for nanos in [Int64.min, -1, 0, Int64.max] {
            #expect(gate.admit(event("sample", wallNanos: nanos), currentGeneration: 1, now: 0) == .accept)
        }
    }

    @Test func incidentLifecycleMustBeConsistent() {
        var gate = AgentEventGate(role: .detector, runID: "r1")
        // Closing or deciding on an incident that was never opened.
        #expect(gate.admit(event("incident.closed", ["incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .drop(.incident))
        #expect(gate.admit(event("policy.decision", ["incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .drop(.incident))
        // Ids of another run, malformed, missing, zero, or absurdly long.
        for bad in ["r2-1", "r1-", "r1-x", "r1-0", "r1--1", "r1-1 ", "r1", "r1-12345678901", "", "r1-1\u{0}"] {
            #expect(gate.admit(event("incident.opened", ["incident_id": bad]), currentGeneration: 1, now: 0) == .drop(.incident), "\(bad)")
        }
        #expect(gate.admit(event("incident.opened"), currentGeneration: 1, now: 0) == .drop(.incident))
        // The real sequence.
        #expect(gate.admit(event("incident.opened", ["incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .accept)
        #expect(gate.admit(event("policy.decision", ["incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .accept)
        #expect(gate.admit(event("incident.opened", ["incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .drop(.incident), "reused")
        #expect(gate.admit(event("incident.recovered", ["incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .accept)
        #expect(gate.admit(event("incident.closed", ["incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .drop(.incident), "closed twice")
        #expect(gate.admit(event("incident.opened", ["incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .drop(.incident), "number reused")
        #expect(gate.admit(event("incident.opened", ["incident_id": "r1-7"]), currentGeneration: 1, now: 0) == .accept)
        #expect(gate.highestIncident == 7)
    }

    @Test func aRestartedDetectorKeepsTheNumbersUsed() {
        var gate = AgentEventGate(role: .detector, runID: "r1")
        #expect(gate.admit(event("incident.opened", ["incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .accept)
        gate.agentRestarted()
        #expect(gate.openIncidents.isEmpty)
        #expect(gate.admit(event("incident.opened", ["incident_id": "r1-1"]), currentGeneration: 1, now: 0) == .drop(.incident))
        #expect(gate.admit(event("incident.opened", ["incident_id": "r1-2"]), currentGeneration: 1, now: 0) == .accept)
    }

    @Test func openIncidentsAreBounded() {
        var gate = AgentEventGate(role: .detector, runID: "r1")
        for n in 1...4 { #expect(gate.admit(event("incident.opened", ["incident_id": "r1-\(n)"]), currentGeneration: 1, now: 0) == .accept) }
        #expect(gate.admit(event("incident.opened", ["incident_id": "r1-5"]), currentGeneration: 1, now: 0) == .drop(.incident))
    }

    @Test func fieldKeysArePlainUniqueAndNotTheReapers() {
        var gate = AgentEventGate(role: .detector, runID: "r1")
        for bad in ["seq", "Bad", "a-b", "a b", "\"", "ü"] {
            #expect(gate.admit(event("sample", [bad: "1"]), currentGeneration: 1, now: 0) == .drop(.field), "\(bad)")
        }
        let duplicated = try! Event(kind: "sample", generation: 1, wallNanos: 0, fields: [Field(key: "a", value: "1"), Field(key: "a", value: "2")])
        #expect(gate.admit(duplicated, currentGeneration: 1, now: 0) == .drop(.field))
    }

    @Test func floodsAreRateLimitedAndCounted() {
        var gate = AgentEventGate(role: .detector, runID: "r1")
        var accepted = 0
        for _ in 0..<10_000 where gate.admit(event("sample"), currentGeneration: 1, now: 5 * second) == .accept { accepted += 1 }
        #expect(accepted == Int(AgentEventGate.burst))
        #expect(gate.takePending() == [.rate: UInt64(10_000 - accepted)])
        #expect(gate.takePending().isEmpty)
        // Refilled at the sustained rate: one second later, that many more.
        accepted = 0
        for _ in 0..<1000 where gate.admit(event("sample"), currentGeneration: 1, now: 6 * second) == .accept { accepted += 1 }
        #expect(accepted == Int(AgentEventGate.perSecond))
        // A detector sampling every 50 ms never hits the limit.
        var steady = AgentEventGate(role: .detector, runID: "r1")
        for i in 0..<2000 {
            #expect(steady.admit(event("sample"), currentGeneration: 1, now: UInt64(i) * 50_000_000) == .accept)
        }
        // Action requests draw from the same bucket.
        var requests = AgentEventGate(role: .api, runID: "r1")
        var ok = 0
        for _ in 0..<500 where requests.admitRequest(now: 0) == .accept { ok += 1 }
        #expect(ok == Int(AgentEventGate.burst))
    }
}
