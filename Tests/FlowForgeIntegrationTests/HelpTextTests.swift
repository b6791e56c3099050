// FlowForge — every command's --help, as an operator on a pipe sees it (80 columns), kept as a snapshot.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import Testing

@Suite struct HelpTextTests {
    static let commands = ["", "run", "up", "ps", "stop", "restart", "update", "logs", "dashboard", "demo", "replay", "config", "config check", "config show"]

    private func help(_ command: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDir + "/flowforge")
        p.arguments = command.split(separator: " ").map(String.init) + ["--help"]
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = nil
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text
    }

    /// The snapshot under Tests/Fixtures/help (`FLOWFORGE_REGENERATE_HELP=1 swift test --filter HelpTextTests`
    /// rewrites it): a change to the help is a change to review. Prose is wrapped by the parser, never by
    /// hand, so no line but the usage line runs past 80 columns, and no paragraph line ends mid-way only to
    /// continue on a short next line (the "sends SIGTERM to the\nworker's whole tree" of hand-wrapped text).
    @Test(arguments: HelpTextTests.commands)
    func helpMatchesItsSnapshot(_ command: String) throws {
        let text = try help(command)
        #expect(text.hasPrefix("OVERVIEW:"), "\(text)")
        let name = command.isEmpty ? "flowforge" : command.replacingOccurrences(of: " ", with: "-")
        let path = packageRoot + "/Tests/Fixtures/help/\(name).txt"
        if ProcessInfo.processInfo.environment["FLOWFORGE_REGENERATE_HELP"] == "1" {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        #expect(text == (try? String(contentsOfFile: path, encoding: .utf8)), "help of '\(command)' differs from \(path)")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines where !line.hasPrefix("USAGE:") {
            #expect(line.count <= 80, "\(command): \(line)")
        }
        // Hand-wrapped prose shows as a line of a paragraph followed by a much shorter one that is not the
        // paragraph's end: a parser-wrapped paragraph fills each line but its last.
        // An example line the parser had to wrap leaves its tail unindented right below it.
        for (i, line) in lines.enumerated().dropFirst() where !line.isEmpty && !line.hasPrefix(" ") && lines[i - 1].hasPrefix("  flowforge") {
            Issue.record("\(command): an example wrapped at 80 columns: '\(lines[i - 1])' / '\(line)'")
        }
        for (i, line) in lines.enumerated().dropLast() where !line.hasPrefix(" ") && line.count < 40 && !line.isEmpty {
            let next = lines[i + 1]
            #expect(next.isEmpty || next.hasPrefix(" ") || line.hasSuffix(":") || line.hasSuffix("."),
                    "\(command): a short line inside a paragraph: '\(line)'")
        }
    }
}
