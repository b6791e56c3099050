// FlowForge — security/seccomp/*.allow are exactly the text SeccompPolicy generates, and each policy is coherent.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeTestSupport
import Foundation
import FlowForgeSystem
import Testing

@Suite("Seccomp policy files")
struct SeccompPolicyFileTests {
    static let directory = packageRoot + "/security/seccomp"
    static let roles = SeccompPolicy.all.map(\.role)

    /// The reviewed `.allow` files and the filters actually loaded must never drift apart: the files are what a
    /// reader audits, `SeccompPolicy` is what `Sandbox.install` loads. The comparison is byte for byte (trailing
    /// newline included) because the files are generated, never edited by hand.
    ///
    /// Set `FLOWFORGE_REGENERATE_SECCOMP=1` to rewrite the files from `SeccompPolicy` instead of comparing.
    @Test("security/seccomp/<role>.allow equals SeccompPolicy.allowFileText", arguments: roles)
    func allowFileMatchesPolicy(role: String) throws {
        let policy = try #require(SeccompPolicy.all.first { $0.role == role })
        let path = Self.directory + "/\(role).allow"
        let expected = Data(policy.allowFileText.utf8)
        let regenerate = "FLOWFORGE_REGENERATE_SECCOMP=1 swift test --filter SeccompPolicyFileTests"
        if ProcessInfo.processInfo.environment["FLOWFORGE_REGENERATE_SECCOMP"] == "1" {
            try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
            try expected.write(to: URL(fileURLWithPath: path))
        }
        let onDisk = try #require(
            FileManager.default.contents(atPath: path),
            "\(path) is missing: regenerate it from Sources/FlowForgeSystem/SeccompPolicy.swift (\(regenerate))")
        #expect(
            onDisk == expected,
            """
            security/seccomp/\(role).allow differs from SeccompPolicy.\(role).allowFileText \
            (\(Self.firstDifference(onDisk, expected))). Do not edit the file by hand: change \
            Sources/FlowForgeSystem/SeccompPolicy.swift, then regenerate the file (\(regenerate)).
            """)
    }

    /// A stray file (a renamed role, a hand-written policy) would be audited as if it were loaded.
    @Test("security/seccomp holds one .allow file per policy and nothing else")
    func noStrayFiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory).filter { !$0.hasPrefix(".") }
        #expect(Set(files) == Set(Self.roles.map { "\($0).allow" }), "security/seccomp: \(files.sorted())")
        #expect(Set(Self.roles).count == Self.roles.count, "two policies share a role: \(Self.roles)")
    }

    /// libseccomp cannot be called from here, so resolving the names on this architecture is left to
    /// `Sandbox.install` (which skips unknown names). What can be checked without it: every name looks like a
    /// syscall name, appears once per policy, and is never both allowed and refused; every group says why.
    @Test("Syscall names are well formed, unique per policy, and never both allowed and refused", arguments: roles)
    func policyIsCoherent(role: String) throws {
        let policy = try #require(SeccompPolicy.all.first { $0.role == role })
        var seen: Set<String> = []
        var allowed: Set<String> = []
        var refused: Set<String> = []
        for group in policy.groups {
            #expect(!group.why.isEmpty && !group.why.contains("\n"), "\(role): a group needs a one-line why")
            #expect(!group.syscalls.isEmpty, "\(role): the group '\(group.why)' lists no syscall")
            for name in group.syscalls {
                #expect(Self.isSyscallName(name), "\(role): '\(name)' is not a syscall name")
                #expect(seen.insert(name).inserted, "\(role): \(name) is listed more than once")
                if group.action == .allow { allowed.insert(name) } else { refused.insert(name) }
            }
        }
        let both = allowed.intersection(refused).sorted()
        #expect(both.isEmpty, "\(role): allowed and refused at once: \(both.joined(separator: " "))")
    }

    static func isSyscallName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
        return name.utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_")
        }
    }

    /// The first line that differs, for the failure message.
    static func firstDifference(_ a: Data, _ b: Data) -> String {
        let linesA = String(decoding: a, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let linesB = String(decoding: b, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(linesA.count, linesB.count) {
            let x = i < linesA.count ? String(linesA[i]) : nil
            let y = i < linesB.count ? String(linesB[i]) : nil
            if x != y {
                let has = x.map { "'\($0)'" } ?? "nothing"
                let wants = y.map { "'\($0)'" } ?? "nothing"
                return "first difference at line \(i + 1): file has \(has), expected \(wants)"
            }
        }
        return "same lines, different bytes"
    }
}
