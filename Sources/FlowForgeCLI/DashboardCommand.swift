// FlowForge — `flowforge dashboard`: the API and web dashboard for every run in the state directory.
// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import FlowForgeAPI
import FlowForgeConfig
import FlowForgeMetrics
import FlowForgeModel
import FlowForgeStore
import FlowForgeSystem
import FlowForgeWire
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// `flowforge dashboard [--listen HOST:PORT] [--stop]`.
struct DashboardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve the API and web dashboard for every run recorded in the state directory.",
        discussion: """
            Ingests every run's event spool (runs/*.jsonl) into the store (flowforge.db, SQLite in WAL mode) \
            once a second, serves /healthz, /metrics, /timeline, /runs and the key-protected /process/* \
            actions, and reaches live runs through their control sockets (runs/*.sock, mode 0600). With one \
            live run the process endpoints act on it; with several, give "run_id" in the body.

            The state directory is $FLOWFORGE_STATE_DIR, else ~/.local/state/flowforge.

            Examples:
              flowforge dashboard                # http://127.0.0.1:8080
              flowforge dashboard --background   # detach (pid file and log: state dir)
              flowforge dashboard --stop
            """
    )

    @Option(help: "Address to serve on.")
    var listen = "127.0.0.1:8080"

    @Flag(name: .customLong("allow-remote"), help: "Allow a non-loopback --listen address (prints a warning).")
    var allowRemote = false

    @Option(name: .customLong("allowed-host"), help: "A Host name served besides loopback names and the --listen host (repeatable; e.g. the name a reverse proxy forwards).")
    var allowedHosts: [String] = []

    @Flag(name: .customLong("require-key-for-reads"), help: "Answer /timeline, /runs and /metrics only with the API key (/healthz stays open).")
    var requireKeyForReads = false

    @Option(help: "Config file (its api section applies; FLOWFORGE_CONFIG also works).")
    var config: String?

    @Option(name: .customLong("retention-days"), help: "Delete events and incidents older than this many days.")
    var retentionDays: Double = 14

    @Flag(help: "Start in the background (pid file and log in the state directory) and return.")
    var background = false

    @Flag(help: "Stop the background dashboard.")
    var stop = false

    @Option(name: .customLong("log-format"), help: "text or json (one JSON object per line) for the dashboard's own messages.")
    var logFormat = "text"

    func validate() throws {
        guard logFormat == "text" || logFormat == "json" else { throw ValidationError("--log-format must be text or json, got '\(logFormat)'") }
        try ListenAddress.check(listen, allowRemote: allowRemote)
        try ListenAddress.checkAllowedHosts(ListenAddress.hostList(try settings().text(.allowedHosts)))
        guard retentionDays.isFinite, retentionDays > 0, retentionDays <= 3650 else {
            throw ValidationError("--retention-days must be between 0 and 3650")
        }
    }

    /// The `api` settings: command line > FLOWFORGE_* environment > config file > defaults.
    func settings() throws -> Settings {
        var given: [SettingOverride] = []
        if requireKeyForReads { given.append(.flag(.requireKeyForReads, true)) }
        if !allowedHosts.isEmpty { given.append(.text(.allowedHosts, allowedHosts.joined(separator: ","))) }
        return try SettingsResolver.resolve(configPath: config, given: given)
    }

    func run() throws {
        let settings = try settings()
        let state = try StateDirectory.ensure()
        let pidFile = state + "/dashboard.pid"
        if stop { return try DashboardProcess.stop(pidFile: pidFile) }
        if let pid = DashboardProcess.running(pidFile: pidFile) {
            let url = (try? String(contentsOfFile: state + "/dashboard.url", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            print("flowforge dashboard is already running (pid \(pid)) on \(url ?? "http://\(listen)")")
            return
        }
        if background { return try DashboardProcess.detach(arguments: ["dashboard", "--listen", listen, "--retention-days", "\(retentionDays)",
                                                                        "--log-format", logFormat]
                                                             + (allowRemote ? ["--allow-remote"] : [])
                                                             + (requireKeyForReads ? ["--require-key-for-reads"] : [])
                                                             + allowedHosts.flatMap { ["--allowed-host", $0] }
                                                             + (config.map { ["--config", $0] } ?? []),
                                                         state: state, pidFile: pidFile, url: "http://\(listen)") }
        guard let (host, port) = APIAgent.parseAddress(listen) else { throw ValidationError("bad --listen \(listen)") }
        let say = CLILog(json: logFormat == "json", component: "flowforge dashboard")
        // Bound before the sandbox, whose filter has no socket (but AF_UNIX), bind or listen; before the store
        // opens, so a taken port leaves nothing behind.
        let listener: Int32
        do { listener = try ListeningSocket.bind(host: host, port: port) } catch {
            say.error("cannot serve http://\(listen): \(error)")
            throw ExitCode(FlowForgeExitCode.internalFailure)
        }
        // From the moment the pid file names us, SIGTERM and SIGINT wait for the server (taken after it starts,
        // never lost: a handler installed later would miss one sent in between).
        Signal.block([.terminate, .interrupt])
        try? "\(getpid())\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        try? "http://\(listen)\n".write(toFile: state + "/dashboard.url", atomically: true, encoding: .utf8)
        let key = try StateDirectory.apiKey()
        ProcessEnvironment.scrub("FLOWFORGE_API_KEY") // held in memory only; /proc/PID/environ no longer shows it
        let assets = DashboardAssets.load()
        // Hardened before the store or the server starts any thread: no capabilities, no-new-privs, a filter.
        var enforcement = Sandbox.Enforcement.kill
        #if DEBUG
        if ProcessEnvironment.list("FLOWFORGE_TEST_SECCOMP_LOG", contains: "dashboard") { enforcement = .log }
        #endif
        do { try Sandbox.enterDashboard(enforcement: enforcement) } catch {
            throw ValidationError("cannot harden the dashboard: \(error)")
        }
        let store = try Store(path: state + "/flowforge.db")
        let metrics = APIMetrics(.dashboard)
        let runs = state + "/runs"
        let reportSkipped: @Sendable (String, Int) -> Void = { spool, n in
            metrics.countSkipped(lines: n)
            say.warn("\(spool): skipped \(n) line\(n == 1 ? "" : "s") that \(n == 1 ? "is" : "are") not an event")
        }
        if try store.ingest(runsDirectory: runs, inserted: metrics.count, skipped: reportSkipped) > 0 { Heap.trim() }
        try? store.applyRetention(days: retentionDays, runsDirectory: runs)
        metrics.seed(incidents: (try? store.incidents(limit: 200, before: nil)) ?? [], names: ((try? store.runs()) ?? []).map(\.name))
        let source = StoreSource(store: store, runsDirectory: runs, metrics: metrics)
        if key == nil { say.warn("no API key (FLOWFORGE_API_KEY or \(StateDirectory.keyFile)): process endpoints are disabled") }
        var logger = logFormat == "json"
            ? Logger(label: "flowforge.dashboard") { _ in JSONLogHandler(component: "dashboard") }
            : Logger(label: "flowforge.dashboard")
        logger.logLevel = .warning
        let requireKey = settings.flag(.requireKeyForReads)
        if requireKey && key == nil { say.warn("--require-key-for-reads without an API key: /timeline, /runs and /metrics answer 503") }
        let context = APIContext(source: source, sink: ControlSink(source: source), apiKey: key, dashboard: assets,
                                 hosts: HostAllowlist(listenHost: host, extra: ListenAddress.hostList(settings.text(.allowedHosts))),
                                 requireKeyForReads: requireKey)
        let server = PreboundServer(listeningSocket: listener, router: APIRoutes.router(context), logger: logger)
        let ingestion = StoreIngestion(store: store, runsDirectory: runs, retentionDays: retentionDays,
                                       inserted: metrics.count, skipped: reportSkipped,
                                       refreshLive: { source.refreshLiveRuns() })
        // Started in this order, stopped in reverse: the server stops accepting and finishes the responses in
        // flight, then ingestion takes a last pass and the store closes.
        var configuration = ServiceGroupConfiguration(services: [.init(service: ingestion), .init(service: server)],
                                                      logger: logger)
        configuration.maximumGracefulShutdownDuration = Duration.seconds(5)
        configuration.maximumCancellationDuration = Duration.seconds(1)
        let services = ServiceGroup(configuration: configuration)
        say.info("flowforge dashboard: serving http://\(listen) (state: \(state))")
        let pidPath = pidFile
        let stopping = Atomic<Bool>(false)
        Task {
            var code: Int32 = 0
            do { try await services.run() } catch {
                say.error("flowforge dashboard: \(error)")
                code = FlowForgeExitCode.internalFailure
            }
            if !stopping.load(ordering: .acquiring) && code == 0 {
                say.error("flowforge dashboard: the server stopped accepting connections")
                code = FlowForgeExitCode.internalFailure
            }
            unlink(pidPath)
            Foundation.exit(code)
        }
        // The main thread waits for SIGTERM or SIGINT, blocked since the pid file was written, so one sent at any
        // moment is taken here and never lost (the service group's own signal handling sets SIG_IGN first, which
        // would discard a pending one; and dispatchMain parks in sigsuspend with every signal unblocked). Then the
        // group shuts down gracefully; the task above exits once it has, and this thread after 6 s at most.
        _ = Signal.wait(for: [.terminate, .interrupt])
        stopping.store(true, ordering: .releasing)
        Task { await services.triggerGracefulShutdown() }
        sleep(6)
        unlink(pidPath)
        Foundation.exit(0)
    }
}

/// The dashboard's ingestion of run spools into the store, every second, with retention applied hourly; on
/// graceful shutdown it takes a last pass, so what runs wrote up to then is in the store before it closes.
struct StoreIngestion: Service {
    let store: Store
    let runsDirectory: String
    let retentionDays: Double
    let inserted: @Sendable (TimelineEvent) -> Void
    let skipped: @Sendable (String, Int) -> Void
    /// Asks the live runs' control sockets, so `/runs` and `/metrics` answer from a status at most a second old.
    let refreshLive: @Sendable () -> Void

    func run() async {
        await cancelWhenGracefulShutdown {
            var lastRetention = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { break }
                ingest()
                refreshLive()
                if ContinuousClock.now - lastRetention > .seconds(3600) {
                    try? store.applyRetention(days: retentionDays, runsDirectory: runsDirectory)
                    lastRetention = .now
                }
            }
        }
        ingest()
    }

    private func ingest() {
        // A burst of ingestion leaves freed heap behind (glibc keeps it): give it back.
        if let new = try? store.ingest(runsDirectory: runsDirectory, inserted: inserted, skipped: skipped), new > 0 { Heap.trim() }
    }
}

/// The background dashboard's pid file.
enum DashboardProcess {
    /// The pid of a running dashboard recorded in `pidFile`, if it is alive and really a flowforge dashboard.
    static func running(pidFile: String) -> Int32? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1, kill(pid, 0) == 0,
              let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
              String(decoding: cmdline, as: UTF8.self).contains("dashboard") else { return nil }
        return pid
    }

    static func stop(pidFile: String) throws {
        guard let pid = running(pidFile: pidFile) else {
            print("flowforge dashboard is not running")
            unlink(pidFile)
            return
        }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(50_000) }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        unlink(pidFile)
        print("flowforge dashboard stopped (pid \(pid))")
    }

    /// Starts the dashboard detached (new session, output to dashboard.log) and waits until it answers.
    static func detach(arguments: [String], state: String, pidFile: String, url: String) throws {
        let log = state + "/dashboard.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ProcessEnvironment.executableDirectory() + "/flowforge")
        p.arguments = arguments
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle(forWritingAtPath: log)
        p.standardError = FileHandle(forWritingAtPath: log)
        try p.run()
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if running(pidFile: pidFile) != nil {
                print("flowforge dashboard started in the background (pid \(p.processIdentifier)): \(url) (log: \(log))")
                return
            }
            if !p.isRunning { break }
            usleep(100_000)
        }
        throw ValidationError("the dashboard did not start; see \(log)")
    }
}
