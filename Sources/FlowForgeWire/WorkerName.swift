// FlowForge — a worker's name as operators see it (`consumer`, `consumer:2`), and its command as they typed it.
// SPDX-License-Identifier: Apache-2.0

/// `PROGRAM` or `PROGRAM:INSTANCE`: the name events, `/runs`, `/timeline`, the dashboard and the `name`
/// label of `/metrics` show for a worker. A program name is 1-64 of `A-Z a-z 0-9 . _ -`, not starting with
/// `.` or `-` (it becomes part of file names and label values); an instance is 1-9999.
public struct WorkerName: Sendable, Hashable, CustomStringConvertible {
    public let program: String
    public let instance: Int?

    public static let maxProgramLength = 64
    public static let maxInstance = 9999

    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, WorkerName.isProgram(first) else { return nil }
        if parts.count == 2 {
            guard parts[1].utf8.count <= 4, parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(parts[1]),
                  (1...WorkerName.maxInstance).contains(n), parts[1].first != "0" else { return nil }
            instance = n
        } else {
            instance = nil
        }
        program = String(first)
    }

    public init?(program: String, instance: Int?) {
        guard WorkerName.isProgram(Substring(program)), instance.map({ (1...WorkerName.maxInstance).contains($0) }) ?? true else { return nil }
        self.program = program
        self.instance = instance
    }

    public var description: String { instance.map { "\(program):\($0)" } ?? program }

    static func isProgram(_ s: Substring) -> Bool {
        guard !s.isEmpty, s.utf8.count <= maxProgramLength, let first = s.utf8.first, first != UInt8(ascii: "."), first != UInt8(ascii: "-") else {
            return false
        }
        return s.utf8.allSatisfy(isNameByte)
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
    }

    /// The default name for a command: the basename of its first word, with other characters as `_`
    /// (`/usr/bin/python3` -> `python3`, `./crawl.sh` -> `crawl.sh`).
    public static func defaulted(command: String) -> WorkerName {
        let base = command.split(separator: "/").last.map(String.init) ?? ""
        var bytes = base.utf8.prefix(maxProgramLength).map { isNameByte($0) ? $0 : UInt8(ascii: "_") }
        while let f = bytes.first, f == UInt8(ascii: ".") || f == UInt8(ascii: "-") { bytes.removeFirst() }
        let name = String(decoding: bytes, as: UTF8.self)
        return WorkerName(program: name.isEmpty ? "worker" : name, instance: nil) ?? WorkerName(program: "worker", instance: nil)!
    }

    /// `words` as a shell would need them typed: each word that is empty or holds anything but
    /// `A-Z a-z 0-9 _ - . / : = , + @ %` single-quoted.
    public static func displayCommand(_ words: [String]) -> String {
        words.map { word in
            let plain = !word.isEmpty && word.utf8.allSatisfy { isNameByte($0) || "/:=,+@%".utf8.contains($0) }
            return plain ? word : "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        }.joined(separator: " ")
    }
}
