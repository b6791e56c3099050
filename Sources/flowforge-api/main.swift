// FlowForge — flowforge-api: the API agent. Logic lives in FlowForgeAPI.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeAPI

APIAgent.main(arguments: Array(CommandLine.arguments.dropFirst()))
