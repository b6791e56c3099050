// FlowForge — the exit codes of FlowForge's own processes, in one place for the CLI, the reaper and the agents.
// SPDX-License-Identifier: Apache-2.0

/// How a FlowForge process ends, when it is not the worker's own exit code that `flowforge run` passes on
/// (0-255 as the worker exited, 128+N for signal N). docs/flowforge-run.md lists them for operators.
public enum FlowForgeExitCode {
    /// FlowForge stopped the worker: a signal to FlowForge, a runaway kill, an operator kill, a crash-loop stop.
    public static let terminatedByFlowForge: Int32 = 120
    /// FlowForge itself failed: it could not start the worker or an agent, lost its spawner before the worker
    /// started, or an agent lost its channel. Also the dashboard when it cannot serve.
    public static let internalFailure: Int32 = 111
    /// The reaper or an agent was started with arguments it cannot use: a bug in the process that started it,
    /// never the operator's options (those are checked before anything starts).
    public static let internalUsage: Int32 = 100
    /// The operator's options or config are wrong and nothing was started (EX_USAGE, as the argument parser
    /// exits for a bad flag).
    public static let usage: Int32 = 64
}
