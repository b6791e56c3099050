// FlowForge — the config file: defaults documented, precedence, and errors that name the key and line.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeConfig
import Foundation
import Testing

private let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

@Suite("Settings and the config file")
struct SettingsTests {
    /// config/flowforge.yaml documents every key with its default: applying it changes no value.
    @Test func shippedFileListsEveryKeyWithItsDefault() throws {
        let text = try String(contentsOfFile: root + "/config/flowforge.yaml", encoding: .utf8)
        var s = Settings()
        try s.applyFile(text, path: "config/flowforge.yaml")
        #expect(s.values == Settings().values)
        for key in Settings.keys {
            #expect(s.origins[key.path] == "config/flowforge.yaml", "\(key.path) is missing from config/flowforge.yaml")
        }
    }

    /// The typed handles and the table name the same keys with the same types: every key has exactly one
    /// handle of its kind, and every handle reads its default without tripping a precondition.
    @Test func typedHandlesCoverEveryKeyWithItsKind() {
        var seen: [String: String] = [:]
        func note(_ path: String, _ kind: String) {
            #expect(seen[path] == nil, "\(path) has two handles")
            seen[path] = kind
        }
        let s = Settings()
        for k in NumberSetting.allCases {
            note(k.rawValue, "number")
            switch Settings.key(k.rawValue)?.kind {
            case .number?, .bytes?: break // a size is stored as a number of bytes
            default: Issue.record("\(k) is not a number key"); continue
            }
            _ = s.number(k)
        }
        for k in IntegerSetting.allCases {
            note(k.rawValue, "integer")
            guard case .integer? = Settings.key(k.rawValue)?.kind else { Issue.record("\(k) is not an integer key"); continue }
            _ = s.integer(k)
        }
        for k in TextSetting.allCases {
            note(k.rawValue, "text")
            switch Settings.key(k.rawValue)?.kind {
            case .text?, .choice?: _ = s.text(k)
            default: Issue.record("\(k) is not a text key")
            }
        }
        for k in FlagSetting.allCases {
            note(k.rawValue, "flag")
            guard case .flag? = Settings.key(k.rawValue)?.kind else { Issue.record("\(k) is not a flag key"); continue }
            _ = s.flag(k)
        }
        #expect(Set(seen.keys) == Set(Settings.keys.map(\.path)), "keys without a typed handle, or handles without a key")
    }

    @Test func commandLineOverridesPassTheSameChecks() {
        var s = Settings()
        #expect(throws: SettingsError.self) { try s.apply([.number(.maxCPU, -1)], source: "command line") }
        #expect(s.number(.maxCPU) == 85 && s.origins["detection.max_cpu"] == "default")
        #expect(throws: SettingsError.self) { try s.apply([.text(.rollout, "sometimes")], source: "command line") }
        #expect(s.text(.rollout) == "enforce")
    }

    @Test func precedenceIsCommandLineThenEnvironmentThenFile() throws {
        var s = Settings()
        try s.applyFile("detection:\n  max_cpu: 70\n  sustain: 4\n", path: "f.yaml")
        try s.applyEnvironment(["FLOWFORGE_SUSTAIN": "6", "FLOWFORGE_ON_RUNAWAY": "kill"])
        try s.apply([.number(.maxCPU, 60)], source: "command line")
        #expect(s.number(.maxCPU) == 60 && s.origins["detection.max_cpu"] == "command line")
        #expect(s.number(.sustain) == 6 && s.origins["detection.sustain"] == "environment FLOWFORGE_SUSTAIN")
        #expect(s.text(.onRunaway) == "kill")
        #expect(s.number(.minConfidence) == 0.8 && s.origins["detection.min_confidence"] == "default")
    }

    @Test(arguments: [
        ("detection:\n  max_cpu: 85\n  max_cpuu: 3\n", "detection.max_cpuu", 3),
        ("detection:\n  sustain: soon\n", "detection.sustain", 2),
        ("detection:\n  min_confidence: 1.5\n", "detection.min_confidence", 2),
        ("actions:\n  on_runaway: explode\n", "actions.on_runaway", 2),
        ("policy:\n  canary_percent: 101\n", "policy.canary_percent", 2),
        ("\nsurprise:\n  x: 1\n", "surprise", 2),
        ("run:\n  cgroup: maybe\n", "run.cgroup", 2),
        ("detection:\n  sustain: [1, 2]\n", "detection.sustain", 2),
    ])
    func errorsNameTheKeyAndLine(_ text: String, _ key: String, _ line: Int) {
        var s = Settings()
        do {
            try s.applyFile(text, path: "bad.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.key == key)
            #expect(error.line == line, "\(error)")
            #expect(error.description.hasPrefix("bad.yaml:\(line): \(key):"))
        }
        #expect(s == Settings(), "a bad file changes nothing")
    }

    @Test func malformedYAMLIsAClearError() {
        var s = Settings()
        #expect(throws: SettingsError.self) { try s.applyFile("detection:\n  max_cpu: [1,\n", path: "broken.yaml") }
    }

    @Test func badEnvironmentValueNamesTheVariable() {
        var s = Settings()
        do {
            try s.applyEnvironment(["FLOWFORGE_MAX_CPU": "lots"])
            Issue.record("accepted")
        } catch {
            #expect(error.source == "environment FLOWFORGE_MAX_CPU")
        }
    }
}

@Suite("flowforge config show")
struct SettingsYAMLTests {
    /// Regression (found by fuzz-config): `yaml()`, what `flowforge config show` prints as a config file, quoted
    /// text values by escaping `"` only. A value with a newline (`FLOWFORGE_AGENT_USER=$'\n'`) printed a file
    /// that loaded back as a space; one with a backslash, a file that loaded differently or not at all.
    @Test(arguments: ["\n", "a\\b", "C:\\tmp\\x\"y\"", "tab\tin", "\u{7}bell", "line\u{2028}sep", "nel\u{85}", "é✓", "\\u0041"])
    func textValuesLoadBack(_ value: String) throws {
        var s = Settings()
        try s.applyEnvironment(["FLOWFORGE_AGENT_USER": value, "FLOWFORGE_FILE": value])
        var reloaded = Settings()
        try reloaded.applyFile(s.yaml(), path: "shown.yaml")
        #expect(reloaded.text(.agentUser) == value)
        #expect(reloaded.values == s.values)
    }

    /// `max_memory` takes sizes as systemd and pm2 write them, and says what it expected otherwise.
    @Test func memorySizes() throws {
        for (text, bytes) in [("0", 0.0), ("1048576", 1_048_576), ("512M", 536_870_912), ("2G", 2_147_483_648), ("1.5g", 1_610_612_736),
                              ("64KiB", 65_536), ("3MB", 3_145_728), ("1T", 1_099_511_627_776)] {
            #expect(ByteSize.parse(text) == bytes, "\(text)")
        }
        for bad in ["", "M", "-1M", "12X", "1e9", "nan", "1 G B"] { #expect(ByteSize.parse(bad) == nil, "\(bad)") }
        var s = Settings()
        try s.applyFile("detection:\n  max_memory: 512M\n", path: "f.yaml")
        #expect(s.number(.maxMemory) == 536_870_912)
        var bad = Settings()
        do {
            try bad.applyFile("detection:\n  max_memory: 12X\n", path: "f.yaml")
            Issue.record("12X was accepted")
        } catch {
            #expect(error.description.contains("detection.max_memory") && error.description.contains("expected a size"), "\(error)")
        }
        #expect(ByteSize.format(536_870_912) == "512 MiB" && ByteSize.format(1_610_612_736) == "1.5 GiB")
    }
}
