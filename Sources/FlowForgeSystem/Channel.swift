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
        let result = bytes.withUnsafeBytes { buf in
            fds.withUnsafeBufferPointer { fdBuf in
                sysResult("sendmsg") {
                    ffsys_send_with_fds(fd, buf.baseAddress, buf.count, fdBuf.baseAddress, Int32(fdBuf.count), nonBlocking ? 1 : 0)
                }
            }
        }
        switch result {
        case .success: return true
        case .failure(let error) where error.errno == EAGAIN || error.errno == EWOULDBLOCK: return false
        case .failure(let error): throw error
        }
    }

    /// Receives one frame.
    public func receive(nonBlocking: Bool = true, maxFDs: Int = 8) throws -> Received {
        var buffer = [UInt8](repeating: 0, count: Channel.receiveCapacity)
        var fds = [Int32](repeating: -1, count: 8)
        var nfds: Int32 = 0
        let result = buffer.withUnsafeMutableBytes { buf in
            fds.withUnsafeMutableBufferPointer { fdBuf in
                sysResult("recvmsg") {
                    ffsys_recv_with_fds(fd, buf.baseAddress, buf.count, fdBuf.baseAddress, Int32(min(maxFDs, 8)), &nfds, nonBlocking ? 1 : 0)
                }
            }
        }
        let n: Int
        switch result {
        case .success(let count): n = count
        case .failure(let error):
            switch error.errno {
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case EMSGSIZE: return .oversized
            case ECONNRESET: return .closed
            default: throw error
            }
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
