// FlowForge — giving freed heap memory back to the kernel.
// SPDX-License-Identifier: Apache-2.0
import CFlowForgeSys

/// The process heap.
public enum Heap {
    /// Returns freed heap memory to the kernel (glibc `malloc_trim(0)`). Without it a long-running process
    /// stays near the high-water mark of its largest burst. Returns true if anything was released.
    @discardableResult
    public static func trim() -> Bool { ffsys_malloc_trim() == 1 }
}
