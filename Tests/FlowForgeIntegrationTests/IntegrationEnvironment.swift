// FlowForge — what the integration tests need to know about this machine.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeSystem
import FlowForgeTestSupport
import Foundation

/// Whether FlowForge will use cgroups here (root and a writable cgroup2 hierarchy).
let cgroupsUsable: Bool = {
    guard isRoot, let parent = Cgroup.parentDirectory() else { return false }
    let probe = parent + "/flowforge-probe-\(UUID().uuidString.prefix(8))"
    guard mkdir(probe, 0o755) == 0 else { return false }
    rmdir(probe)
    return true
}()
