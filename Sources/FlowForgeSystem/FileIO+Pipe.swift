// FlowForge — the pipe calls of the output relay: non-blocking writes to a shared descriptor, splice, pipe
// sizes. Each goes through the syscall funnel and returns the errno the relay switches on.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys
#if canImport(Glibc)
import Glibc
#endif

extension FileIO {
    /// PIPE_BUF: a write of at most this many bytes to a pipe is atomic.
    public static let pipeAtomicWrite = Int(PIPE_BUF)

    /// Writes without blocking even when the file description is blocking (pwritev2 RWF_NOWAIT): the bytes
    /// written, EAGAIN when full, EOPNOTSUPP (or EINVAL) when the file type does not support it.
    public static func writeNoWait(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, SystemError> {
        sysResult("pwritev2(RWF_NOWAIT)") { ffsys_write_nowait(fd, bytes.baseAddress, bytes.count) }
    }

    /// Moves up to `limit` bytes from pipe `source` to pipe `sink` without copying them and without blocking
    /// (splice): the bytes moved (0 at EOF), EAGAIN when `source` is empty or `sink` full, EINVAL when the
    /// kernel refuses the pair.
    public static func splice(from source: Int32, to sink: Int32, limit: Int) -> Result<Int, SystemError> {
        sysResult("splice") { ffsys_splice_pipes(source, sink, limit) }
    }

    /// Sets or clears O_NONBLOCK on the file description behind `fd`.
    ///
    /// - Throws: `SystemError`.
    public static func setNonBlocking(_ fd: Int32, _ on: Bool = true) throws(SystemError) {
        _ = try sys("fcntl(O_NONBLOCK)") { ffsys_set_nonblocking(fd, on ? 1 : 0) }
    }

    /// Resizes a pipe's buffer (F_SETPIPE_SZ); returns the size the kernel granted.
    ///
    /// - Throws: `SystemError` (EPERM above `/proc/sys/fs/pipe-max-size` for an unprivileged caller).
    @discardableResult
    public static func setPipeSize(_ fd: Int32, _ bytes: Int32) throws(SystemError) -> Int32 {
        try sys("fcntl(F_SETPIPE_SZ)") { ffsys_set_pipe_size(fd, bytes) }
    }

    /// Whether `fd` is a pipe or FIFO (false when fstat fails).
    public static func isPipe(_ fd: Int32) -> Bool { ffsys_is_pipe(fd) == 1 }
}
