// FlowForge — writes fuzz/corpus/wire/: one valid frame of every message of both families, and edge cases.
// Run from fuzz/: swiftc -module-name FlowForgeWire -parse-as-library ../Sources/FlowForgeWire/*.swift \
//   tools/make_wire_seeds.swift -o /tmp/seeds && /tmp/seeds
// SPDX-License-Identifier: Apache-2.0
import Glibc

@main
struct MakeWireSeeds {
    static func write(_ name: String, _ bytes: [UInt8]) {
        let path = "corpus/wire/" + name
        guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }

    static func main() throws {
        let event = try Event(kind: "incident.opened", generation: 3, wallNanos: 1_796_609_964_500_000_000, fields: [
            Field(key: "incident_id", value: "r1-3"), Field(key: "cpu_percent", value: "97.5"),
            Field(key: "reason", value: "repeating output ✓ \"quoted\"\n"), Field(key: "seq", value: "42"),
        ])
        let messages: [(String, Message)] = [
            ("hello-detector", .hello(role: .detector, pid: 4242)),
            ("hello-api", .hello(role: .api, pid: 1)),
            ("welcome", .welcome(runID: "r20261207T031348-20482", reaperPID: 100, workerPID: 101, generation: 1)),
            ("heartbeat", .heartbeat),
            ("worker-started", .workerStarted(generation: 1, pid: 101, pgid: 101, startedAtNanos: 123_456_789)),
            ("worker-exited-code", .workerExited(generation: 1, pid: 101, exit: ExitReport(kind: .exited, code: 3))),
            ("worker-exited-signal", .workerExited(generation: 2, pid: 7, exit: ExitReport(kind: .signaled, code: 9))),
            ("output-stdout", .output(generation: 1, stream: .stdout, bytes: Array("retrying in 5s\n".utf8))),
            ("output-stderr-binary", .output(generation: 1, stream: .stderr, bytes: [0, 0xFF, 0xC3, 0x28, 10])),
            ("output-dropped", .outputDropped(totalBytes: 1 << 40)),
            ("action-request", .actionRequest(id: 9, kind: .restart, generation: 0, reason: "runaway")),
            ("action-request-kill", .actionRequest(id: .max, kind: .kill, generation: .max, reason: "")),
            ("action-result", .actionResult(id: 9, outcome: .accepted, detail: "tearing down")),
            ("action-result-rejected", .actionResult(id: 10, outcome: .rejected, detail: "no worker")),
            ("event", .event(event)),
            ("event-extremes", .event(try Event(kind: "", generation: .max, wallNanos: .min))),
            ("stopping", .stopping(reason: "SIGTERM")),
            ("test-forbidden-syscall", .testForbiddenSyscall),
        ]
        for (name, message) in messages { write("message-" + name, message.encode()) }
        let spawner: [(String, SpawnerMessage)] = [
            ("spawn-worker", .spawnWorker(generation: 1)),
            ("spawn-agent", .spawnAgent(role: .api)),
            ("scan", .scan),
            ("remove-cgroup", .removeCgroup(generation: 2)),
            ("finish", .finish),
            ("activity", .activity(generation: 1)),
            ("activity-result", .activityResult(syscalls: 10, bytes: 4096, switches: 3, processes: 2)),
            ("spawned", .spawned(pid: 101, hasCgroup: true)),
            ("scan-result", .scanResult(pids: [101, 102, 4_000_000])),
            ("scan-result-empty", .scanResult(pids: [])),
            ("failed", .failed(errno: 13, detail: "EACCES: /sys/fs/cgroup")),
        ]
        for (name, message) in spawner { write("spawner-" + name, message.encode()) }
        // Near misses: the header of a frame declaring more than Wire.maxFrameSize, and a bad version.
        write("oversized-header", [0x46, 0x46, 1, 6, 0, 1, 0, 0])
        write("version-2", [0x46, 0x46, 2, 3, 0, 0, 0, 0])
    }
}
