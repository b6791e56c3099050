// FlowForge — the dashboard's lifecycle (swift-service-lifecycle): SIGTERM at any moment ends it with status 0,
// after the server stopped and a last ingestion pass stored what runs wrote until then.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeStore
import FlowForgeTestSupport
import Foundation
import Testing

@Suite("Dashboard lifecycle", .serialized)
struct DashboardLifecycleTests {
    private func stateDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "ff-life-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir)
        return dir
    }

    /// A signal sent as soon as the pid file names the dashboard (before its server and store exist) is
    /// taken, not lost and not fatal: the process exits 0 and removes its pid file.
    @Test(.timeLimit(.minutes(1)))
    func sigtermAsSoonAsThePidFileAppearsIsNotLost() throws {
        for _ in 0..<3 {
            let dir = try stateDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let dashboard = try DashboardProcess(stateDir: dir)
            #expect(eventually(timeout: 10) { FileManager.default.fileExists(atPath: dir + "/dashboard.pid") })
            kill(dashboard.pid, SIGTERM)
            #expect(eventually(timeout: 10) { !dashboard.process.isRunning }, "still running 10 s after SIGTERM")
            dashboard.process.waitUntilExit()
            #expect(dashboard.process.terminationReason == .exit && dashboard.process.terminationStatus == 0,
                    "ended by \(dashboard.process.terminationReason == .exit ? "exit" : "signal") \(dashboard.process.terminationStatus): \(dashboard.log)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/dashboard.pid"))
        }
    }

    /// SIGTERM right after a run wrote events (well inside the one-second ingestion interval): the services stop
    /// in reverse order, ingestion takes its last pass, and the store has every event when the process is gone.
    @Test(.timeLimit(.minutes(1)))
    func sigtermStoresWhatRunsWroteBeforeIt() throws {
        let dir = try stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dashboard = try DashboardProcess(stateDir: dir)
        #expect(dashboard.waitUntilServing())
        let lines = (1...5).map { seq in
            #"{"ts":"2026-12-07T12:00:0\#(seq).000000Z","run_id":"r-life","name":"life","generation":1,"kind":"sample","seq":\#(seq),"fields":{"cpu_percent":1.0}}"#
        }
        let spool = dir + "/runs/r-life.jsonl"
        let fd = open(spool, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        let text = lines.joined(separator: "\n") + "\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        kill(dashboard.pid, SIGTERM)
        dashboard.process.waitUntilExit()
        #expect(dashboard.process.terminationReason == .exit && dashboard.process.terminationStatus == 0, "\(dashboard.log)")
        let store = try Store(path: dir + "/flowforge.db")
        #expect(try store.eventCount() == lines.count, "the last ingestion pass stored the run's events")
        #expect(try store.runs().first?.name == "life")
    }
}
