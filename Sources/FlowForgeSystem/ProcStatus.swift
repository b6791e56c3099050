// FlowForge — the privilege fields of /proc/PID/status, the oracle of every hardening test.
// SPDX-License-Identifier: Apache-2.0

/// The privilege-relevant fields of `/proc/PID/status`.
public struct ProcStatus: Sendable, Equatable {
    public var name = ""
    public var ppid: Int32 = 0
    public var uid: [UInt32] = []
    public var gid: [UInt32] = []
    public var capEff: UInt64 = 0
    public var capPrm: UInt64 = 0
    public var capInh: UInt64 = 0
    public var capBnd: UInt64 = 0
    public var capAmb: UInt64 = 0
    public var noNewPrivs = 0
    /// 0 = none, 1 = strict, 2 = filter.
    public var seccomp = 0
    public var threads = 0

    /// Parses the text of a status file.
    public init(parsing text: String) {
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon]
            let value = line[line.index(after: colon)...].trimmingWhitespace()
            switch key {
            case "Name": name = String(value)
            case "PPid": ppid = Int32(value) ?? 0
            case "Uid": uid = value.split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { UInt32($0) }
            case "Gid": gid = value.split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { UInt32($0) }
            case "CapEff": capEff = UInt64(value, radix: 16) ?? 0
            case "CapPrm": capPrm = UInt64(value, radix: 16) ?? 0
            case "CapInh": capInh = UInt64(value, radix: 16) ?? 0
            case "CapBnd": capBnd = UInt64(value, radix: 16) ?? 0
            case "CapAmb": capAmb = UInt64(value, radix: 16) ?? 0
            case "NoNewPrivs": noNewPrivs = Int(value) ?? 0
            case "Seccomp": seccomp = Int(value) ?? 0
            case "Threads": threads = Int(value) ?? 0
            default: break
            }
        }
    }

    /// Reads `/proc/<pid>/status`; nil when the process is gone.
    public static func read(pid: Int32) -> ProcStatus? {
        FileIO.readText("/proc/\(pid)/status").map(ProcStatus.init(parsing:))
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s = s.dropLast() }
        return s
    }
}
