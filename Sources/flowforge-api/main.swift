// FlowForge — flowforge-api: the API agent. Logic lives in FlowForgeAgent (and later FlowForgeAPI).
// SPDX-License-Identifier: Apache-2.0
import FlowForgeAgent

APIAgent.main(arguments: Array(CommandLine.arguments.dropFirst()))
