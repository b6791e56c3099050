// FlowForge — fuzz target: what the reaper does with an agent's frames after decoding them (AgentEventGate, the
// reaper's own file compiled into this module): kinds per role, generations, keys, incident ids, the rate.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeWire
import FuzzSupport

/// The input is a session: byte 0 picks the agent's role, byte 1 the current generation (0...15), then records.
/// Each record's first byte picks: a raw frame (length byte, bytes) decoded as the reaper decodes it; an event
/// built to meet the gate's checks (a detector kind, an incident id of this run or another, plain or odd keys);
/// time passing; an action request; the agent restarting; a new generation.
///
/// Properties, checked against a model of what the gate promises: the API agent gets no event through; an
/// accepted event has a detector kind, a generation in 1...current, unique plain keys and no `seq`; incident ids
/// are opened in strictly increasing order and never twice, closed only while open, and at most four are open;
/// accepted events and requests never exceed the token bucket (burst + rate × elapsed time); every drop is
/// counted once.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAgentGate(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzReader(UnsafeRawBufferPointer(start: data, count: size))
    let role: AgentRole = input.byte() & 1 == 0 ? .detector : .api
    let runID = "r20261207T031348-20482"
    var gate = AgentEventGate(role: role, runID: runID)
    var generation = UInt32(input.byte() % 16)
    let start: UInt64 = 1_000_000_000
    var now = start
    var admitted = 0.0, drops: UInt64 = 0
    var open: [String] = [], highest: UInt64 = 0

    func judge(_ event: Event) {
        let verdict = gate.admit(event, currentGeneration: generation, now: now)
        guard verdict == .accept else { drops += 1; return }
        admitted += 1
        fuzzCheck(role == .detector, "the API agent's event got through: \(event)")
        fuzzCheck(AgentEventGate.detectorKinds.contains(event.kind), "accepted kind \(event.kind)")
        fuzzCheck(event.generation > 0 && event.generation <= generation, "accepted generation \(event.generation)")
        let keys = event.fields.map(\.key)
        fuzzCheck(Set(keys).count == keys.count && !keys.contains("seq") && keys.allSatisfy(AgentEventGate.isPlainKey),
                  "accepted keys \(keys)")
        guard event.kind != "sample" else { return }
        guard event.kind != "worker.notify" else {
            fuzzCheck(!keys.contains("incident_id"), "a worker.notify naming an incident got through: \(event)")
            return
        }
        let id = event.fields.first { $0.key == "incident_id" }?.value ?? ""
        let digits = id.dropFirst(runID.count + 1)
        fuzzCheck(id.hasPrefix(runID + "-") && !digits.isEmpty && digits.count <= 9 && digits.allSatisfy(\.isASCII),
                  "accepted incident id '\(id)'")
        let number = UInt64(digits) ?? 0
        switch event.kind {
        case "incident.opened":
            fuzzCheck(number > highest, "incident \(number) opened after \(highest)")
            highest = number
            open.append(id)
        case "incident.closed", "incident.recovered":
            fuzzCheck(open.contains(id), "closed \(id), which is not open")
            open.removeAll { $0 == id }
        default:
            fuzzCheck(open.contains(id), "\(event.kind) about \(id), which is not open")
        }
        fuzzCheck(open.count <= 4 && gate.openIncidents == open, "open incidents \(gate.openIncidents), model \(open)")
    }

    var records = 0
    while !input.isAtEnd && records < 512 {
        records += 1
        switch input.byte() % 8 {
        case 0:  // a raw frame from the agent
            let frame = (0..<Int(input.byte())).map { _ in input.byte() }
            if case .event(let event)? = try? Message.decode(frame) { judge(event) }
        case 1, 2, 3:  // an event shaped to get past the first checks
            let kinds = Array(AgentEventGate.detectorKinds).sorted() + ["worker.exited", "teardown.started"]
            let kind = kinds[Int(input.byte()) % kinds.count]
            let shape = input.byte()
            let number = String(input.u32() % (shape & 0x80 == 0 ? 16 : 2_000_000_000))
            let id: String
            switch shape % 4 {
            case 0: id = runID + "-" + number
            case 1: id = runID + "-0" + number
            case 2: id = "other-" + number
            default: id = input.string(maxBytes: 40)
            }
            var fields = [Field(key: "incident_id", value: id)]
            for _ in 0..<Int(input.byte() % 4) {
                let keys = ["cpu_percent", "seq", "Reason", "incident_id", "entropy", "", "a b"]
                fields.append(Field(key: keys[Int(input.byte()) % keys.count], value: input.string(maxBytes: 8)))
            }
            let eventGeneration = UInt32(input.byte() % 18)
            if let event = try? Event(kind: kind, generation: eventGeneration, wallNanos: 0, fields: fields) {
                judge(event)
            }
        case 4:  // time passes: up to ~4 s, or a jump of up to ~70 years
            let step = input.byte() & 0x80 == 0 ? UInt64(input.u32() % 4_000_000_000) : UInt64(input.u32()) << 20
            let (next, overflow) = now.addingReportingOverflow(step)
            now = overflow ? .max : next
        case 5:
            if gate.admitRequest(now: now) == .accept { admitted += 1 } else { drops += 1 }
        case 6:
            gate.agentRestarted()
            open.removeAll()
        default:
            generation = min(generation + 1, 17)
        }
        let elapsed = Double(now - start) / 1e9
        fuzzCheck(admitted <= AgentEventGate.burst + AgentEventGate.perSecond * elapsed + 1e-6,
                  "\(admitted) admitted in \(elapsed) s")
        fuzzCheck(gate.total == drops, "gate counted \(gate.total) drops, model \(drops)")
    }
    let pending = gate.takePending()
    fuzzCheck(pending.values.reduce(0, +) == drops && gate.takePending().isEmpty, "pending \(pending), drops \(drops)")
    return 0
}
