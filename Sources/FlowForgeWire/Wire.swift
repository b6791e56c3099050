// FlowForge — protocol constants and limits shared by every frame
// SPDX-License-Identifier: Apache-2.0

/// Constants and size limits of the FlowForge reaper wire protocol.
///
/// One AF_UNIX SOCK_SEQPACKET datagram carries exactly one frame: an 8-byte header
/// (magic "FF", version, type code, big-endian UInt32 payload length) and the payload.
/// A receive buffer of `maxFrameSize` bytes always holds any valid frame.
public enum Wire: Sendable, Equatable {
    /// Protocol version carried in byte 2 of every frame header.
    public static let version: UInt8 = 1

    /// First magic byte of every frame ("F").
    public static let magic0: UInt8 = 0x46

    /// Second magic byte of every frame ("F").
    public static let magic1: UInt8 = 0x46

    /// Size of the fixed frame header in bytes.
    public static let headerSize = 8

    /// Largest frame, header included, in bytes.
    public static let maxFrameSize = 65536

    /// Largest payload in bytes (`maxFrameSize - headerSize`).
    public static let maxPayloadSize = maxFrameSize - headerSize

    /// Default upper bound, in UTF-8 bytes, of every string on the wire.
    public static let maxStringBytes = 4096
}
