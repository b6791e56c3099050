// FlowForge — test support: wait on a condition with a deadline, never on a fixed sleep.
// SPDX-License-Identifier: Apache-2.0
import Foundation

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass; true when it held.
///
/// Use this instead of a sleep before an assertion: it returns as soon as the state is reached, and the
/// timeout only bounds how long a failing test waits.
@discardableResult
public func eventually(timeout: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}

/// Polls `condition` every 20 ms for `duration` seconds; false as soon as it does not hold.
///
/// For "nothing happens" checks (a refused request must not restart the worker): the window is the claim
/// under test, not a synchronisation point, and the check fails at the first sample that breaks it.
@discardableResult
public func consistently(for duration: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(duration)
    repeat {
        if try !condition() { return false }
        usleep(20_000)
    } while Date() < deadline
    return try condition()
}
