// FlowForge — which agent is on the other end of a reaper socket
// SPDX-License-Identifier: Apache-2.0

/// The role an agent announces in its `hello` frame, or asks the spawner to start.
public enum AgentRole: UInt8, Sendable, Equatable, Hashable, CaseIterable {
    /// The detector agent, which watches the worker and asks for restarts or kills.
    case detector = 1
    /// The API agent, which serves the local control API.
    case api = 2
}
