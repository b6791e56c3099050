// FlowForge — detector tests live beside this file.
// SPDX-License-Identifier: Apache-2.0
import Testing
