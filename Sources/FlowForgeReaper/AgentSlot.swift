// FlowForge — one agent as the reaper supervises it: process, channel, liveness and respawn backoff.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeWire

/// The reaper's view of one agent (detector or API).
struct AgentSlot {
    let role: AgentRole
    var pid: Int32 = 0
    var pidfd: Int32 = -1
    var channel: Channel?
    /// Set once the agent said hello with the right role.
    var greeted = false
    var startedAt: UInt64 = 0
    var lastHeard: UInt64 = 0
    var failures = 0
    var respawnAt: UInt64?
    var requested = false
    /// What this role may send; kept across restarts of the agent (incident numbers stay used).
    var gate: AgentEventGate
    /// When dropped messages were last reported (`agent.rejected`), monotonic.
    var rejectionsReportedAt: UInt64 = 0

    /// How long an agent may stay silent (no heartbeat, no frame) before it is treated as hung.
    static let silenceLimit: UInt64 = 10_000_000_000
    /// A run at least this long resets the backoff.
    static let stableRun: UInt64 = 30_000_000_000
    static let firstBackoff: UInt64 = 100_000_000
    static let maxBackoff: UInt64 = 5_000_000_000

    /// How often dropped messages are reported: one `agent.rejected` event per agent per interval at most.
    static let rejectionReportInterval: UInt64 = 10_000_000_000

    init(role: AgentRole, runID: String) {
        self.role = role
        self.gate = AgentEventGate(role: role, runID: runID)
    }

    var readyChannel: Channel? { greeted ? channel : nil }

    /// Capped exponential backoff: 100 ms, 200 ms, ... 5 s; reset after a stable run.
    mutating func scheduleRespawn(now: UInt64) {
        if startedAt > 0 && now &- startedAt >= AgentSlot.stableRun { failures = 0 }
        let delay = min(AgentSlot.maxBackoff, AgentSlot.firstBackoff << UInt64(min(failures, 16)))
        failures += 1
        respawnAt = now + delay
        requested = false
    }
}
