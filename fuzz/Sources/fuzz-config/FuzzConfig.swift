// FlowForge — fuzz target: the config loader (Settings.applyFile over Yams, and the FLOWFORGE_* environment).
// SPDX-License-Identifier: Apache-2.0
import FlowForgeConfig
import FuzzSupport

/// Two modes, so that real config files are seeds as they are.
///
/// Input not starting with byte 0x01: the input is a config file. Never traps; a file either fails with an error or
/// is applied whole, and then every value has its key's type and lies in its bounds, and `yaml()` (what `flowforge
/// config show` prints) loads back to the same values.
///
/// Byte 0x01, then a byte that picks a key, and the rest is its environment variable's text: either an error, or a
/// value in bounds that `yaml()` also carries back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var reader = FuzzReader(UnsafeRawBufferPointer(start: data, count: size))
    var settings = Settings()
    let before = settings
    let input: String
    if reader.byte() != 0x01 {
        input = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
        do { try settings.applyFile(input, path: "fuzz.yaml") } catch {
            fuzzCheck(settings == before, "a failed file changed the settings")
            return 0
        }
    } else {
        let key = Settings.keys[Int(reader.byte()) % Settings.keys.count]
        input = String(decoding: reader.rest(), as: UTF8.self)
        do { try settings.applyEnvironment([key.environmentName: input]) } catch {
            fuzzCheck(settings == before, "a failed variable changed the settings")
            return 0
        }
    }
    for key in Settings.keys {
        guard let value = settings.values[key.path] else { fuzzFail("\(key.path) has no value") }
        do { try settings.set(key.path, value, source: "check") } catch {
            fuzzFail("\(key.path) = \(value) from \(fuzzHex(input.utf8)) is out of bounds: \(error)")
        }
    }
    let shown = settings.yaml()
    var reloaded = Settings()
    do { try reloaded.applyFile(shown, path: "shown.yaml") } catch {
        fuzzFail("yaml() does not load back: \(error)\n\(shown)")
    }
    fuzzCheck(reloaded.values == settings.values, "yaml() loads back differently:\n\(shown)\nfrom \(fuzzHex(input.utf8))")
    return 0
}
