// FlowForge — the config file's `programs:` map: what it accepts, and the errors that name the key and line.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeConfig
import Testing

@Suite struct ProgramsTests {
    private func load(_ text: String) throws(SettingsError) -> Settings {
        var s = Settings()
        try s.applyFile(text, path: "fleet.yaml")
        return s
    }

    private func error(_ text: String) -> SettingsError? {
        do { _ = try load(text) } catch { return error }
        return nil
    }

    /// The issue's example, verbatim: two programs, their commands, instances and per-program settings.
    @Test func theIssuesExampleParses() throws {
        let s = try load("""
            detection:
              max_cpu: 90
            programs:
              consumer:
                command: ["python3", "consumer.py", "--queue", "orders"]
                instances: 3          # named consumer:1, consumer:2, consumer:3
                max_cpu: 70
                on_runaway: restart
              crawler:
                command: ["./crawl.sh"]
                cwd: /srv/crawler
            """)
        #expect(s.programs.map(\.name) == ["consumer", "crawler"])
        let consumer = try #require(s.program("consumer"))
        #expect(consumer.command == ["python3", "consumer.py", "--queue", "orders"])
        #expect(consumer.instanceNames == ["consumer:1", "consumer:2", "consumer:3"])
        #expect(consumer.settings == ["detection.max_cpu": .number(70), "actions.on_runaway": .text("restart")])
        let crawler = try #require(s.program("crawler"))
        #expect(crawler.instanceNames == ["crawler:1"])
        #expect(crawler.directory(base: "/etc/flowforge") == "/srv/crawler")
        #expect(consumer.directory(base: "/etc/flowforge") == "/etc/flowforge")
        // The file's sections are untouched by a program's keys until that program is applied.
        #expect(s.number(.maxCPU) == 90)
        var applied = s
        try applied.applyProgram("consumer", source: "fleet.yaml")
        #expect(applied.number(.maxCPU) == 70)
        #expect(applied.origins["detection.max_cpu"] == "fleet.yaml (programs.consumer)")
        var other = s
        try other.applyProgram("crawler", source: "fleet.yaml")
        #expect(other.number(.maxCPU) == 90)
    }

    @Test func argsEnvironmentUserAndStringCommands() throws {
        let s = try load("""
            programs:
              web:
                command: gunicorn app:wsgi
                args: ["--workers", "2"]
                environment:
                  PORT: 8000
                  LOG_LEVEL: "debug"
                user: www-data
                group: www-data
                grace: 20
                rotate_mb: 50
                keep_rotated: 2
            """)
        let web = try #require(s.program("web"))
        #expect(web.command == ["gunicorn", "app:wsgi", "--workers", "2"])
        #expect(web.environment == ["PORT": "8000", "LOG_LEVEL": "debug"])
        #expect(web.user == "www-data" && web.group == "www-data")
        #expect(web.settings["run.grace"] == .number(20))
        #expect(web.settings["logs.rotate_mb"] == .number(50))
        #expect(web.settings["logs.keep_rotated"] == .integer(2))
    }

    /// Each mistake is refused with the key as `programs.NAME.KEY` and the line Yams gives, and nothing of the
    /// file is applied.
    @Test(arguments: [
        ("programs:\n  consumer:\n    command: [\"x\"]\n    max_cpux: 70\n", "programs.consumer.max_cpux", 4, "unknown key"),
        ("programs:\n  consumer:\n    command: [\"x\"]\n    instances: 0\n", "programs.consumer.instances", 4, "1-9999"),
        ("programs:\n  consumer:\n    command: [\"x\"]\n    instances: many\n", "programs.consumer.instances", 4, "whole number"),
        ("programs:\n  bad:name:\n    command: [\"x\"]\n", "programs.bad:name", 2, "program name"),
        ("programs:\n  .hidden:\n    command: [\"x\"]\n", "programs..hidden", 2, "program name"),
        ("programs:\n  consumer:\n    instances: 2\n", "programs.consumer.command", 3, "missing"),
        ("programs:\n  consumer:\n    command: []\n", "programs.consumer.command", 3, "empty"),
        ("programs:\n  consumer:\n    command: \"sh -c 'echo hi'\"\n", "programs.consumer.command", 3, "write it as a list"),
        ("programs:\n  consumer:\n    command: [\"x\"]\n    max_cpu: 0\n", "programs.consumer.max_cpu", 4, "outside"),
        ("programs:\n  consumer:\n    command: [\"x\"]\n    on_runaway: explode\n", "programs.consumer.on_runaway", 4, "restart, kill, log"),
        ("programs:\n  consumer:\n    command: [\"x\"]\n    environment:\n      FLOWFORGE_MAX_CPU: 3\n",
         "programs.consumer.environment.FLOWFORGE_MAX_CPU", 5, "settings"),
        ("programs:\n  consumer:\n    command: [\"x\"]\n    environment:\n      1X: 3\n", "programs.consumer.environment.1X", 5, "variable"),
        ("programs:\n  consumer: yes\n", "programs.consumer", 2, "expected the program's keys"),
        ("programs: [a, b]\n", "programs", 1, "map of program names"),
        ("programs:\n  all:\n    command: [\"x\"]\n", "programs.all", 2, "reserved"),
    ])
    func mistakesNameTheKeyAndLine(_ text: String, _ key: String, _ line: Int, _ message: String) throws {
        let e = try #require(error("run:\n  grace: 9\n" + text), "accepted: \(text)")
        #expect(e.key == key)
        #expect(e.line == line + 2)
        #expect(e.message.contains(message), "\(e.message)")
    }

    /// Yams refuses a program defined twice before the map is read (no line, but the name).
    @Test func aProgramDefinedTwiceIsRefused() throws {
        let e = try #require(error("programs:\n  consumer:\n    command: [\"x\"]\n  consumer:\n    command: [\"y\"]\n"))
        #expect(e.message.contains("'consumer'"), "\(e.message)")
    }

    @Test func anEmptyProgramsSectionIsNoPrograms() throws {
        #expect(try load("programs:\n").programs.isEmpty)
        #expect(try load("run:\n  grace: 2\n").programs.isEmpty)
    }

    @Test func applyingAnUnknownProgramSaysWhichExist() throws {
        var s = try load("programs:\n  a:\n    command: [\"x\"]\n")
        #expect(throws: SettingsError.self) { try s.applyProgram("b", source: "fleet.yaml") }
        do { try s.applyProgram("b", source: "fleet.yaml") } catch { #expect(error.message.contains("known: a")) }
    }

    /// `config show` prints the programs back as YAML that loads to the same programs.
    @Test func showPrintsProgramsThatReadBack() throws {
        let s = try load("""
            programs:
              consumer:
                command: ["python3", "consumer.py", "it's"]
                instances: 2
                max_cpu: 70
                environment:
                  A: "1"
                cwd: sub dir
            """)
        let text = s.yaml().split(separator: "\n").map { line in
            // Values carry their origin as a comment; the programs part is plain YAML.
            String(line)
        }.joined(separator: "\n")
        let back = try load(text)
        #expect(back.programs == s.programs.map { p in var p = p; p.line = back.program(p.name)?.line; return p })
    }

    /// A program restarts on failure unless it says otherwise, like supervisord's and pm2's; the file's
    /// `actions.restart_on_exit` is `flowforge run`'s.
    @Test func programsRestartOnFailureUnlessTheySayOtherwise() throws {
        let s = try load("""
            actions:
              restart_on_exit: never
            programs:
              job:
                command: ["./job.sh"]
              once:
                command: ["./once.sh"]
                restart_on_exit: never
              loop:
                command: ["./loop.sh"]
                restart_on_exit: always
            """)
        #expect(s.text(.restartOnExit) == "never")
        for (name, expected) in [("job", "on-failure"), ("once", "never"), ("loop", "always")] {
            var applied = s
            try applied.applyProgram(name, source: "fleet.yaml")
            #expect(applied.text(.restartOnExit) == expected, "\(name)")
        }
        #expect(error("programs:\n  p:\n    command: [\"x\"]\n    restart_on_exit: sometimes\n")?.message.contains("never, on-failure, always") == true)
    }
}
