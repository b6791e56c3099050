// FlowForge — flowforge up / ps / stop / restart / logs with real processes: each test has its own state
// directory and marker, and leaves no process behind.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import Testing

@Suite("Programs from the config file (flowforge up)", .serialized)
struct ProgramsTests {
    @Test(.timeLimit(.minutes(2)))
    func upStartsEveryInstanceAndAdoptsThemTheSecondTime() throws {
        let fleet = try FleetSandbox(programs: """
              consumer:
                command: ["sh", "-c", "while true; do echo \\"tick $$\\"; sleep 0.2; done"]
                instances: 2
              crawler:
                command: ["sleep", "300"]
            """)
        defer { fleet.cleanUp() }
        let up = fleet.flowforge(["up", "--config", fleet.config])
        #expect(up.code == 0, "\(up.out)\(up.err)")
        let first = fleet.ps()
        #expect(first.map(\.label) == ["consumer:1", "consumer:2", "crawler:1"])
        for row in first {
            #expect(row.json["state"] as? String == "running")
            #expect(row.pid > 1 && kill(row.pid, 0) == 0, "\(row.json)")
        }
        // The second up finds every name live and starts nothing: the same workers, one socket each.
        let again = fleet.flowforge(["up", "--config", fleet.config])
        #expect(again.code == 0)
        #expect(again.out.components(separatedBy: "adopted").count - 1 == 3, "\(again.out)")
        let second = fleet.ps()
        #expect(second.map(\.pid) == first.map(\.pid))
        #expect(fleet.liveSockets() == 3)
        // Every field the issue asks of ps --json, with its type.
        let row = try #require(second.first).json
        #expect(row["name"] as? String == "consumer" && row["instance"] as? Int == 1)
        for key in ["reaper_pid", "restarts", "open_incidents"] { #expect(row[key] is Int, "\(key): \(row)") }
        #expect(row["run_id"] is String && row["uptime_seconds"] is Double)
    }

    /// Two ups at once (systemd's and an operator's) start each instance once: the second waits for the
    /// first's up.lock, then adopts.
    @Test(.timeLimit(.minutes(2)))
    func concurrentUpsStartEachInstanceOnce() throws {
        let fleet = try FleetSandbox(programs: """
              consumer:
                command: ["sleep", "300"]
                instances: 2
            """)
        defer { fleet.cleanUp() }
        let ups = (0..<3).map { _ in fleet.start(["up", "--config", fleet.config]) }
        for up in ups { up.process.waitUntilExit() }
        #expect(ups.allSatisfy { $0.process.terminationStatus == 0 }, "\(ups.map { $0.output() })")
        #expect(fleet.ps().map(\.label) == ["consumer:1", "consumer:2"])
        #expect(ups.map { $0.output().components(separatedBy: "started (run").count - 1 }.reduce(0, +) == 2)
    }

    @Test(.timeLimit(.minutes(2)))
    func stopOneInstanceThenRestartInPlaceAndFromTheConfig() throws {
        let fleet = try FleetSandbox(programs: """
              consumer:
                command: ["sleep", "300"]
                instances: 2
                grace: 1
            """)
        defer { fleet.cleanUp() }
        #expect(fleet.flowforge(["up", "--config", fleet.config]).code == 0)
        let before = fleet.ps()
        let stop = fleet.flowforge(["stop", "consumer:2"])
        #expect(stop.code == 0, "\(stop.out)\(stop.err)")
        #expect(stop.out.contains("consumer:2: stopped"))
        let after = fleet.ps()
        #expect(after.map { $0.json["state"] as? String } == ["running", "stopped"])
        #expect(after[0].pid == before[0].pid)
        #expect(kill(before[1].pid, 0) != 0, "the stopped instance's worker is gone")
        #expect((after[1].json["detail"] as? String ?? "").contains("flowforge stop"), "\(after[1].json)")

        // In place: the same run, a new generation.
        let restart = fleet.flowforge(["restart", "consumer:1"])
        #expect(restart.code == 0, "\(restart.out)\(restart.err)")
        let restarted = fleet.ps()
        #expect(restarted[0].json["run_id"] as? String == before[0].json["run_id"] as? String)
        #expect(restarted[0].json["restarts"] as? Int == 1)
        #expect(restarted[0].pid != before[0].pid && kill(before[0].pid, 0) != 0)
        // A stopped instance is started again from the config up used.
        let start = fleet.flowforge(["restart", "consumer:2"])
        #expect(start.code == 0, "\(start.out)\(start.err)")
        #expect(fleet.ps().map { $0.json["state"] as? String } == ["running", "running"])
        // --grace: stop within the grace given, then a new run.
        let graced = fleet.flowforge(["restart", "consumer:1", "--grace", "0.2"])
        #expect(graced.code == 0, "\(graced.out)\(graced.err)")
        #expect(fleet.ps()[0].json["run_id"] as? String != before[0].json["run_id"] as? String)
        // `start` is up's other name (supervisorctl, pm2): a stopped instance runs again, a running one is adopted.
        #expect(fleet.flowforge(["stop", "consumer:2"]).code == 0)
        let started = fleet.flowforge(["start", "--config", fleet.config, "consumer"])
        #expect(started.code == 0, "\(started.out)\(started.err)")
        #expect(fleet.ps().map { $0.json["state"] as? String } == ["running", "running"])
    }

    /// `update` (supervisorctl's): the edited file applied. An unchanged instance keeps its run and worker, a
    /// removed one (instances lowered, program deleted) is stopped, a changed one is a new run, an added one
    /// starts; a second update does nothing; a change to a section every program reads restarts them all.
    @Test(.timeLimit(.minutes(2)))
    func updateAppliesTheEditedFile() throws {
        let fleet = try FleetSandbox(programs: """
              keep:
                command: ["sleep", "300"]
                instances: 2
              edit:
                command: ["sleep", "301"]
              drop:
                command: ["sleep", "302"]
            """)
        defer { fleet.cleanUp() }
        #expect(fleet.flowforge(["up", "--config", fleet.config]).code == 0)
        func rows() -> [String: FleetSandbox.Row] {
            Dictionary(fleet.ps().filter { $0.json["state"] as? String == "running" }.map { ($0.label, $0) }, uniquingKeysWith: { a, _ in a })
        }
        func run(_ row: FleetSandbox.Row?) -> String? { row?.json["run_id"] as? String }
        let before = rows()
        #expect(before.keys.sorted() == ["drop:1", "edit:1", "keep:1", "keep:2"])
        let same = fleet.flowforge(["update"])
        #expect(same.code == 0 && same.out.contains("nothing to do"), "\(same.out)\(same.err)")
        #expect(rows().mapValues(\.pid) == before.mapValues(\.pid))

        try """
            run:
              grace: 1
            programs:
              keep:
                command: ["sleep", "300"]
              edit:
                command: ["sleep", "301"]
                max_cpu: 70
              added:
                command: ["sleep", "303"]
            """.write(toFile: fleet.config, atomically: true, encoding: .utf8)
        let update = fleet.flowforge(["update"])
        #expect(update.code == 0, "\(update.out)\(update.err)")
        for line in ["keep:1: unchanged", "keep:2: removed from", "drop:1: removed from", "edit:1: changed in", "edit:1: started", "added:1: started"] {
            #expect(update.out.contains(line), "\(line): \(update.out)")
        }
        let after = rows()
        #expect(after.keys.sorted() == ["added:1", "edit:1", "keep:1"], "\(after.keys)")
        #expect(run(after["keep:1"]) == run(before["keep:1"]) && after["keep:1"]?.pid == before["keep:1"]?.pid)
        #expect(run(after["edit:1"]) != nil && run(after["edit:1"]) != run(before["edit:1"]))
        for gone in ["keep:2", "drop:1", "edit:1"] { #expect(kill(before[gone]?.pid ?? 0, 0) != 0, "\(gone)'s worker is gone") }
        let again = fleet.flowforge(["update"])
        #expect(again.code == 0 && again.out.contains("nothing to do"), "\(again.out)")

        // A section every program reads: the instances it changes are restarted, not edit:1, whose own max_cpu
        // wins over the file's.
        try ("detection:\n  max_cpu: 60\n" + (try String(contentsOfFile: fleet.config, encoding: .utf8))).write(toFile: fleet.config, atomically: true, encoding: .utf8)
        let global = fleet.flowforge(["update"])
        #expect(global.code == 0, "\(global.out)\(global.err)")
        for line in ["keep:1: changed in", "added:1: changed in", "edit:1: unchanged"] { #expect(global.out.contains(line), "\(line): \(global.out)") }
        let last = rows()
        #expect(run(last["keep:1"]) != run(after["keep:1"]) && run(last["added:1"]) != run(after["added:1"]))
        #expect(run(last["edit:1"]) == run(after["edit:1"]))

        // Bad config changes nothing.
        let running = rows().mapValues(\.pid)
        try "programs:\n  keep:\n    command: []\n".write(toFile: fleet.config, atomically: true, encoding: .utf8)
        let bad = fleet.flowforge(["update"])
        #expect(bad.code == 64, "\(bad.out)\(bad.err)")
        #expect(rows().mapValues(\.pid) == running)
    }

    /// A worker that ignores SIGTERM is SIGKILLed after --grace, not after the program's (longer) grace.
    @Test(.timeLimit(.minutes(2)))
    func stopGraceShortensTheProgramsGrace() throws {
        let fleet = try FleetSandbox(programs: """
              stubborn:
                command: ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 0.1; done"]
                grace: 30
            """)
        defer { fleet.cleanUp() }
        #expect(fleet.flowforge(["up", "--config", fleet.config]).code == 0)
        let started = Date()
        let stop = fleet.flowforge(["stop", "all", "--grace", "0.5"])
        let took = Date().timeIntervalSince(started)
        #expect(stop.code == 0, "\(stop.out)\(stop.err)")
        #expect(took < 10, "took \(took) s")
        #expect(fleet.markedProcesses().isEmpty)
    }

    @Test(.timeLimit(.minutes(2)))
    func logsTailTheLastLinesAndRotate() throws {
        let fleet = try FleetSandbox(programs: """
              chatty:
                command: ["sh", "-c", "i=0; while true; i=$((i+1)); do echo \\"line $i of a log that rotates quickly\\"; echo \\"warn $i\\" >&2; sleep 0.005; done"]
                rotate_mb: 0.01
                keep_rotated: 2
            """)
        defer { fleet.cleanUp() }
        #expect(fleet.flowforge(["up", "--config", fleet.config]).code == 0)
        let out = fleet.state + "/logs/chatty:1.out.log"
        try fleet.waitFor("two rotations") { FileManager.default.fileExists(atPath: out + ".2") }
        // Never more than keep_rotated old files.
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!FileManager.default.fileExists(atPath: out + ".3"))
        let rotated = try String(contentsOfFile: out + ".1", encoding: .utf8)
        #expect(rotated.hasSuffix("\n"), "a rotated file ends with a whole line")
        let tail = fleet.flowforge(["logs", "chatty:1", "-n", "3", "--stdout"])
        let lines = tail.out.split(separator: "\n")
        #expect(lines.count == 3, "\(tail.out)")
        #expect(lines.allSatisfy { $0.hasPrefix("line ") })
        let both = fleet.flowforge(["logs", "chatty", "-n", "1"])
        #expect(both.out.contains("==> chatty:1 stdout <==") && both.out.contains("==> chatty:1 stderr <=="), "\(both.out)")
        // -f keeps printing, across rotations: the numbers it shows over a second go on without a gap.
        let follow = fleet.start(["logs", "chatty:1", "-f", "-n", "0", "--stdout"])
        Thread.sleep(forTimeInterval: 1.5)
        // SIGKILL: a child of Foundation's Process starts with the spawning thread's signals blocked, SIGTERM too.
        kill(follow.process.processIdentifier, SIGKILL)
        follow.process.waitUntilExit()
        let numbers = follow.output().split(separator: "\n").compactMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
        #expect(numbers.count > 50, "\(numbers.count) lines followed")
        #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $1 == $0 + 1 }, "a gap or a repeat while following")
    }

    @Test(.timeLimit(.minutes(2)), arguments: [
        ("  consumer:\n    command: [\"sleep\", \"1\"]\n    max_cpux: 70\n", "programs.consumer.max_cpux"),
        ("  bad/name:\n    command: [\"sleep\", \"1\"]\n", "program name"),
        ("  consumer:\n    command: [\"sleep\", \"1\"]\n    instances: 0\n", "programs.consumer.instances"),
        ("  consumer:\n    command: [\"no-such-command-ff\"]\n", "command not found: no-such-command-ff"),
        ("  ok:\n    command: [\"sleep\", \"300\"]\n  consumer:\n    command: [\"sleep\", \"1\"]\n    cwd: /nonexistent-ff\n", "/nonexistent-ff"),
    ])
    func badConfigExits64AndStartsNothing(_ programs: String, _ message: String) throws {
        let fleet = try FleetSandbox(programs: programs)
        defer { fleet.cleanUp() }
        let up = fleet.flowforge(["up", "--config", fleet.config])
        #expect(up.code == 64, "\(up.out)\(up.err)")
        #expect(up.err.contains(message), "\(up.err)")
        #expect(fleet.markedProcesses().isEmpty)
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: fleet.state + "/runs")) ?? []
        #expect(runs.isEmpty, "\(runs)")
    }

    @Test(.timeLimit(.minutes(2)))
    func crashLoopStoppedShowsInPs() throws {
        let fleet = try FleetSandbox(programs: """
              looper:
                command: ["sleep", "300"]
                max_restarts: 0
            """, env: ["FLOWFORGE_TEST_REQUEST_RESTART": "1"])
        defer { fleet.cleanUp() }
        _ = fleet.flowforge(["up", "--config", fleet.config])
        try fleet.waitFor("the crash-loop guard") { fleet.ps().first?.json["state"] as? String == "crash-loop stopped" }
    }

    /// A program that fails is started again (supervisord's and pm2's default), one that says
    /// `restart_on_exit: never` is not, and ps shows both.
    @Test(.timeLimit(.minutes(2)))
    func programsRestartWhenTheyFail() throws {
        let counter = try makeTemporaryDirectory("ff-flaky")
        defer { try? FileManager.default.removeItem(atPath: counter) }
        let fleet = try FleetSandbox(programs: """
              flaky:
                command: ["sh", "-c", "n=$(( $(cat $0/count 2>/dev/null || echo 0) + 1 )); echo $n > $0/count; [ $n -ge 2 ] && exec sleep 300; exit 1", "\(counter)"]
              once:
                command: ["sh", "-c", "exit 1"]
                restart_on_exit: never
            """)
        defer { fleet.cleanUp() }
        _ = fleet.flowforge(["up", "--config", fleet.config])
        try fleet.waitFor("flaky restarted once and running") {
            let row = fleet.ps().first { $0.label == "flaky:1" }
            return row?.json["state"] as? String == "running" && row?.json["restarts"] as? Int == 1
        }
        try fleet.waitFor("once stopped, not restarted") {
            let row = fleet.ps().first { $0.label == "once:1" }
            return row?.json["state"] as? String == "stopped"
        }
        #expect(try String(contentsOfFile: counter + "/count", encoding: .utf8).hasPrefix("2"))
    }

    /// The systemd mode: SIGTERM to an attached up stops every instance it started, each reaper tearing its
    /// tree down, and up exits 0 once all of them (and their log writers) are gone: no process with the
    /// test's marker is left.
    @Test(.timeLimit(.minutes(2)))
    func foregroundStoppedBySIGTERMLeavesNoProcess() throws {
        let fleet = try FleetSandbox(programs: """
              consumer:
                command: ["sh", "-c", "sleep 300 & sh -c 'sleep 300' & wait"]
                instances: 2
              crawler:
                command: ["sleep", "300"]
            """)
        defer { fleet.cleanUp() }
        let up = fleet.start(["up", "--config", fleet.config, "--foreground"])
        try fleet.waitFor("three running instances") { fleet.ps().filter { $0.json["state"] as? String == "running" }.count == 3 }
        #expect(fleet.markedProcesses().count >= 3 * 4, "reapers, spawners, workers and log writers")
        // Runs started from a shell since are the fleet's too: crawler:1 again as a new run, and an instance
        // update adds. systemctl stop must stop them with the rest.
        let replaced = fleet.flowforge(["restart", "crawler:1", "--grace", "0"])
        #expect(replaced.code == 0, "\(replaced.out)\(replaced.err)")
        try (try String(contentsOfFile: fleet.config, encoding: .utf8)).replacingOccurrences(of: "instances: 2", with: "instances: 3")
            .write(toFile: fleet.config, atomically: true, encoding: .utf8)
        let added = fleet.flowforge(["update"])
        #expect(added.code == 0 && added.out.contains("consumer:3: started"), "\(added.out)\(added.err)")
        #expect(fleet.liveSockets() == 4)
        kill(up.process.processIdentifier, SIGTERM)
        up.process.waitUntilExit()
        #expect(up.process.terminationStatus == 0, "\(up.output())")
        #expect(fleet.liveSockets() == 0)
        // The later instances' log writers are not up's children: they end once their runs' pipes close.
        try fleet.waitFor("no process left", timeout: 10) { fleet.markedProcesses().isEmpty }
    }
}

/// config/flowforge-up.service passes `systemd-analyze verify` (with ExecStart pointed at this build, since
/// verify wants the binary to exist) and keeps the choices docs/fleet.md explains: up attached, SIGTERM to up
/// alone, bad config not restarted.
@Suite struct UpServiceUnitTests {
    static let analyzer = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test func unitKeepsItsStopChoices() throws {
        let unit = try String(contentsOfFile: packageRoot + "/config/flowforge-up.service", encoding: .utf8)
        let lines = Set(unit.split(separator: "\n").map(String.init))
        #expect(lines.contains { $0.hasPrefix("ExecStart=") && $0.hasSuffix(" up --config /etc/flowforge/fleet.yaml --foreground") })
        for line in ["Type=simple", "KillMode=mixed", "KillSignal=SIGTERM", "RestartPreventExitStatus=64", "Delegate=yes"] {
            #expect(lines.contains(line), "\(line)")
        }
    }

    @Test(.enabled(if: analyzer != nil))
    func unitVerifies() throws {
        let dir = NSTemporaryDirectory() + "ff-unit-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let unit = try String(contentsOfFile: packageRoot + "/config/flowforge-up.service", encoding: .utf8)
            .replacingOccurrences(of: "/opt/flowforge/.build/release/flowforge", with: binDir + "/flowforge")
        try unit.write(toFile: dir + "/flowforge-up.service", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(Self.analyzer))
        p.arguments = ["verify", dir + "/flowforge-up.service"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(!text.contains("flowforge-up.service:"), "\(text)")
    }
}

/// One test's fleet: a temporary directory with the config and the state directory, and a marker every
/// process it starts inherits, so cleanup (and the no-leftover checks) find exactly those processes.
private final class FleetSandbox {
    let dir: String
    let marker = "ff-programs-" + UUID().uuidString
    let extraEnv: [String: String]
    var config: String { dir + "/fleet.yaml" }
    var state: String { dir + "/state" }

    init(programs: String, env: [String: String] = [:]) throws {
        dir = NSTemporaryDirectory() + "ff-programs-\(UUID().uuidString.prefix(8))"
        extraEnv = env
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try ("run:\n  grace: 1\nprograms:\n" + programs).write(toFile: config, atomically: true, encoding: .utf8)
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["PYTHONUNBUFFERED"] = nil
        env["FLOWFORGE_CONFIG"] = nil
        env["FLOWFORGE_STATE_DIR"] = state
        env[Marker.variable] = marker
        for (k, v) in extraEnv { env[k] = v }
        return env
    }

    /// A started `flowforge` whose stdout and stderr go to one file.
    struct Started {
        let process: Process
        let path: String
        func output() -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
    }

    func start(_ args: [String]) -> Started {
        let path = dir + "/out-\(UUID().uuidString.prefix(6))"
        FileManager.default.createFile(atPath: path, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
        p.arguments = args
        p.environment = environment
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle(forWritingAtPath: path)
        p.standardError = FileHandle(forWritingAtPath: path)
        try? p.run()
        return Started(process: p, path: path)
    }

    /// Runs `flowforge ARGS` to the end (stdout and stderr kept apart).
    func flowforge(_ args: [String]) -> (code: Int32, out: String, err: String) {
        let outPath = dir + "/o-\(UUID().uuidString.prefix(6))", errPath = outPath + ".err"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
        p.arguments = args
        p.environment = environment
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle(forWritingAtPath: outPath)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        do { try p.run() } catch { return (-1, "", "\(error)") }
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    struct Row {
        let json: [String: Any]
        var label: String { "\(json["name"] as? String ?? ""):\(json["instance"] as? Int ?? 0)" }
        var pid: Int32 { Int32(json["pid"] as? Int ?? 0) }
    }

    func ps() -> [Row] {
        let r = flowforge(["ps", "--json"])
        let rows = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [[String: Any]] ?? []
        return rows.map(Row.init)
    }

    func liveSockets() -> Int {
        ps().filter { ($0.json["state"] as? String) == "running" }.count
    }

    func waitFor(_ what: String, timeout: Double = 20, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else { throw WaitTimeout(what: what) }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    struct WaitTimeout: Error, CustomStringConvertible {
        let what: String
        var description: String { "timed out waiting for \(what)" }
    }

    /// PIDs of live processes whose environment holds this sandbox's marker (all of them started by this test).
    func markedProcesses() -> [Int32] { processes(withMarker: marker) }

    /// Stops the fleet the way an operator would, then SIGKILLs any process still carrying the marker.
    func cleanUp() {
        _ = flowforge(["stop", "all", "--grace", "0"])
        killMarked(marker)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
