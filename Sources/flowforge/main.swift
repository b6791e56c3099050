// FlowForge — the `flowforge` command line. Logic lives in FlowForgeCLI.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeCLI

FlowForgeCommand.main()
