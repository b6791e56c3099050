// FlowForge — the worker's NOTIFY_SOCKET: an abstract datagram socket with the senders' credentials.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys
#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify socket FlowForge gives a worker (`NOTIFY_SOCKET=@NAME`): bound by the spawner in the kernel's
/// abstract namespace (no file, so a worker running as another user reaches it too), read by the detector,
/// which checks each sender's pid (SCM_CREDENTIALS) against the worker's tree.
public enum NotifySocket {
    /// The largest datagram read whole (systemd reads at most 4 KiB of a notification too).
    public static let maxDatagram = 4096

    /// Binds `@name` (the abstract address `\0name`), non-blocking, close-on-exec, with SO_PASSCRED.
    ///
    /// - Throws: `SystemError` (EADDRINUSE when another process holds the name).
    public static func bind(name: String) throws(SystemError) -> Int32 {
        try sys("bind @\(name)") { ffsys_notify_bind(name) }
    }

    /// A datagram socket connected to a NOTIFY_SOCKET address (`/path` or `@name`): FlowForge's own service
    /// manager's, when FlowForge runs under systemd with `Type=notify`.
    ///
    /// - Throws: `SystemError`.
    public static func connect(address: String) throws(SystemError) -> Int32 {
        try sys("connect \(address)") { ffsys_notify_connect(address) }
    }

    /// Whether `fd` is a socket (the detector's notify descriptor is /dev/null when the run has none).
    public static func isSocket(_ fd: Int32) -> Bool {
        var st = stat()
        return fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK
    }

    /// One waiting datagram with its sender, or nil when none is waiting (or the socket failed).
    public static func receive(_ fd: Int32) -> (bytes: [UInt8], pid: Int32, uid: UInt32)? {
        var buffer = [UInt8](repeating: 0, count: maxDatagram)
        var pid: Int32 = 0
        var uid: UInt32 = 0
        let n = buffer.withUnsafeMutableBufferPointer { raw in
            raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) { ffsys_notify_receive(fd, $0, Int32(raw.count), &pid, &uid) }
        }
        guard n >= 0 else { return nil }
        return (Array(buffer.prefix(Int(n))), pid, uid)
    }
}
