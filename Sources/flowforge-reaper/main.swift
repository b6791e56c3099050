// FlowForge — flowforge-reaper: the small process that owns the worker's tree. Logic lives in FlowForgeReaper.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeReaper

Reaper.run(arguments: Array(CommandLine.arguments.dropFirst()))
