// FlowForge — the API key: it reaches the API through pipes only, never an environment or an argv a worker
// of the same uid could read; and the agents' identity is never root or the worker's.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import Testing

private func environmentAndArgv(_ pid: Int32) -> String {
    let env = FileManager.default.contents(atPath: "/proc/\(pid)/environ") ?? Data()
    return String(decoding: env, as: UTF8.self) + "\n" + cmdline(pid).joined(separator: " ")
}

@Suite("API key handling", .serialized)
struct KeyHandlingTests {
    /// `FLOWFORGE_API_KEY` given to `flowforge run --listen`: the key works (a restart with it is accepted),
    /// and no process of the run (reaper, spawner, agents, worker) holds it in /proc/PID/environ or cmdline.
    @Test(.timeLimit(.minutes(1)))
    func keyIsInNoEnvironmentOfTheRun() throws {
        let run = try APIRun()
        try #require(run.waitUntilServing(), "the API never answered: \(run.ff.stderr)")
        let key = try #require(run.key)
        let worker = try #require(run.worker())
        var pids = [run.ff.pid] + run.ff.children()
        pids += pids.flatMap { pid in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        #expect(pids.count >= 5, "reaper, spawner, detector, api, worker: \(pids)")
        for pid in Set(pids) {
            #expect(!environmentAndArgv(pid).contains(key), "pid \(pid) (\(cmdline(pid).first ?? "?")) holds the API key")
        }
        let reply = try run.act("restart", reason: "the key arrived through pipes")
        #expect(reply.status == 202, "\(reply.text)")
        #expect(eventually { run.worker().map { $0 != worker } ?? false })
        // The respawned generation's processes, and an API agent started after a respawn, neither.
        for pid in [run.ff.pid] + run.ff.children() {
            #expect(!environmentAndArgv(pid).contains(key), "pid \(pid) holds the API key")
        }
    }

    /// The dashboard reads the key, then overwrites it in its own environment block.
    @Test(.timeLimit(.minutes(1)))
    func dashboardScrubsTheKeyFromItsEnvironment() throws {
        let state = try makeTemporaryDirectory("ff-keydash")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let key = "ffk-scrub-\(UUID().uuidString)"
        let dash = try DashboardProcess(stateDir: state, env: ["FLOWFORGE_API_KEY": key])
        defer { dash.stop() }
        #expect(eventually(timeout: 20) { (try? String(contentsOfFile: state + "/dashboard.url", encoding: .utf8)) != nil && !environmentAndArgv(dash.pid).contains(key) })
        #expect(!environmentAndArgv(dash.pid).contains(key))
        #expect(dash.process.isRunning)
    }

    @Test func agentsNeverRunAsRoot() throws {
        let (status, stderr) = try runFlowForge(["run", "--agent-user", "root", "--", "true"])
        #expect(status == 64 && stderr.contains("--agent-user must not be root"), "\(status) \(stderr)")
    }

    @Test(.enabled(if: isRoot)) func workerNeverSharesTheAgentsUser() throws {
        let (status, stderr) = try runFlowForge(["run", "--user", "nobody", "--", "true"])
        #expect(status == 64 && stderr.contains("also the agents' user"), "\(status) \(stderr)")
        let (ok, _) = try runFlowForge(["run", "--user", "nobody", "--agent-user", "daemon", "--", "true"])
        #expect(ok == 0)
    }

    private func runFlowForge(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        let state = NSTemporaryDirectory() + "ff-keyrun-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: state) }
        env["FLOWFORGE_STATE_DIR"] = state
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }
}
