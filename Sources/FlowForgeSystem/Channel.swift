// FlowForge — one end of a SOCK_SEQPACKET socketpair: one datagram is one frame.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys
#if canImport(Glibc)
import Glibc
#endif

/// One end of a reaper<->helper channel. Frames are whole datagrams; file descriptors ride beside them.
public struct Channel: Sendable {
    /// The socket descriptor.
    public let fd: Int32
    /// The receive buffer size: one byte more than the largest legal frame, so an oversized datagram is seen
    /// as such (MSG_TRUNC) instead of silently cut.
    public static let receiveCapacity = 65536 + 1

    public init(fd: Int32) { self.fd = fd }

    /// What a receive produced.
    public enum Received {
        case frame(bytes: [UInt8], fds: [Int32])
        case wouldBlock
        case closed
        /// The peer sent a datagram larger than any legal frame (it was discarded).
        case oversized
    }

    /// Sends one frame, optionally with descriptors. `nonBlocking` returns false instead of waiting when the
    /// peer's queue is full.
    @discardableResult
    public func send(_ bytes: [UInt8], fds: [Int32] = [], nonBlocking: Bool = false) throws -> Bool {
        let n = bytes.withUnsafeBytes { buf in
            fds.withUnsafeBufferPointer { fdBuf in
                retryEINTR {
                    ffsys_send_with_fds(fd, buf.baseAddress, buf.count, fdBuf.baseAddress, Int32(fdBuf.count), nonBlocking ? 1 : 0)
                }
            }
        }
        if n < 0 {
            let e = errno
            if e == EAGAIN || e == EWOULDBLOCK { return false }
            throw SystemError("sendmsg", errno: e)
        }
        return true
    }

    /// Receives one frame.
    public func receive(nonBlocking: Bool = true, maxFDs: Int = 8) throws -> Received {
        var buffer = [UInt8](repeating: 0, count: Channel.receiveCapacity)
        var fds = [Int32](repeating: -1, count: 8)
        var nfds: Int32 = 0
        let n = buffer.withUnsafeMutableBytes { buf in
            fds.withUnsafeMutableBufferPointer { fdBuf in
                retryEINTR {
                    ffsys_recv_with_fds(fd, buf.baseAddress, buf.count, fdBuf.baseAddress, Int32(min(maxFDs, 8)), &nfds, nonBlocking ? 1 : 0)
                }
            }
        }
        if n < 0 {
            let e = errno
            if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
            if e == EMSGSIZE { return .oversized }
            if e == ECONNRESET { return .closed }
            throw SystemError("recvmsg", errno: e)
        }
        if n == 0 && nfds == 0 { return .closed }
        if n >= Channel.receiveCapacity {
            for i in 0..<Int(nfds) { FileIO.close(fds[i]) }
            return .oversized
        }
        buffer.removeSubrange(n...)
        return .frame(bytes: buffer, fds: Array(fds[0..<Int(nfds)]))
    }
}

/// Runs `body` again while it fails with EINTR; returns its last result (errno is left for the caller).
@inline(__always)
public func retryEINTR(_ body: () -> Int) -> Int {
    while true {
        let r = body()
        if r < 0 && errno == EINTR { continue }
        return r
    }
}
