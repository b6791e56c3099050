// FlowForge — flowforge-detector: the sampler/detector agent. Logic lives in FlowForgeDetector.
// SPDX-License-Identifier: Apache-2.0
import FlowForgeDetector

DetectorAgent.main(arguments: Array(CommandLine.arguments.dropFirst()))
