// FlowForge — which standard stream a chunk of worker output came from
// SPDX-License-Identifier: Apache-2.0

/// The worker stream an `output` chunk was read from.
///
/// Foundation also declares `OutputStream`; modules importing both spell this one `FlowForgeWire.OutputStream`.
public enum OutputStream: UInt8, Sendable, Equatable, Hashable, CaseIterable {
    /// The worker's standard output.
    case stdout = 1
    /// The worker's standard error.
    case stderr = 2
}
