// FlowForge — messages between the reaper and its agents (detector, api)
// SPDX-License-Identifier: Apache-2.0

/// A frame exchanged between the reaper and an agent (detector or api), in either direction.
///
/// Type codes 1...63 (`Message.typeCodes`); disjoint from `SpawnerMessage`, so a spawner frame
/// fed to `Message.decode` fails with `unknownType`.
public enum Message: Sendable, Equatable, Hashable {
    /// Agent -> reaper, the first frame on a new socket.
    case hello(role: AgentRole, pid: UInt32)
    /// Reaper -> agent, the answer to `hello`; `workerPID` is 0 when no worker runs.
    case welcome(runID: String, reaperPID: UInt32, workerPID: UInt32, generation: UInt32)
    /// Either way: liveness ping, no payload.
    case heartbeat
    /// Reaper -> agent: a worker generation started; `startedAtNanos` is CLOCK_MONOTONIC.
    case workerStarted(generation: UInt32, pid: UInt32, pgid: UInt32, startedAtNanos: UInt64)
    /// Reaper -> agent: a worker generation ended.
    case workerExited(generation: UInt32, pid: UInt32, exit: ExitReport)
    /// Reaper -> agent: a chunk of worker output, at most `Message.maxOutputChunk` bytes.
    case output(generation: UInt32, stream: OutputStream, bytes: [UInt8])
    /// Reaper -> agent: output was dropped because the agent fell behind; running total in bytes.
    case outputDropped(totalBytes: UInt64)
    /// Agent -> reaper: restart or kill the worker; `generation` 0 means the current one.
    case actionRequest(id: UInt64, kind: ActionKind, generation: UInt32, reason: String)
    /// Reaper -> agent: the outcome of the `actionRequest` with the same `id`.
    case actionResult(id: UInt64, outcome: ActionOutcome, detail: String)
    /// Either way: a structured timeline record.
    case event(Event)
    /// Reaper -> agent: the reaper is shutting down.
    case stopping(reason: String)
    /// Reaper -> agent, tests only: make a syscall the agent's seccomp filter forbids (agents decide whether to obey).
    case testForbiddenSyscall

    /// The range every `Message` type code falls in.
    public static let typeCodes: ClosedRange<UInt8> = 1...63

    /// Largest `output` chunk: a chunk of this size encodes to exactly `Wire.maxFrameSize` bytes.
    public static let maxOutputChunk = Wire.maxPayloadSize - 4 - 1 - 4  // generation, stream, byte count

    /// The frame type code of this message.
    public var typeCode: UInt8 { TypeCode(self).rawValue }
}

extension Message {
    /// Frame type codes of `Message`.
    enum TypeCode: UInt8, CaseIterable {
        case hello = 1
        case welcome = 2
        case heartbeat = 3
        case workerStarted = 4
        case workerExited = 5
        case output = 6
        case outputDropped = 7
        case actionRequest = 8
        case actionResult = 9
        case event = 10
        case stopping = 11
        case testForbiddenSyscall = 12

        init(_ message: Message) {
            switch message {
            case .hello: self = .hello
            case .welcome: self = .welcome
            case .heartbeat: self = .heartbeat
            case .workerStarted: self = .workerStarted
            case .workerExited: self = .workerExited
            case .output: self = .output
            case .outputDropped: self = .outputDropped
            case .actionRequest: self = .actionRequest
            case .actionResult: self = .actionResult
            case .event: self = .event
            case .stopping: self = .stopping
            case .testForbiddenSyscall: self = .testForbiddenSyscall
            }
        }
    }
}
